/**
 * The rules of OpenAPI 3.1 that its JSON Schema (what @seriousme/openapi-schema-validator
 * checks, with $ref resolution) cannot express, checked by hand: each `{name}` in a path
 * is a declared path parameter (§4.8.8.1 "Path Templating"), a parameter is unique by name
 * and location (§4.8.10.1), operationIds are unique (§4.8.10.1), and each security
 * requirement names a declared scheme (§4.8.30.1). Returns the problems found.
 */
type Obj = Record<string, any>;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export function checkBeyondSchema(doc: Obj): string[] {
  const problems: string[] = [];
  const schemes = doc.components?.securitySchemes ?? {};
  const operationIds = new Set<string>();
  const items = [...Object.entries((doc.paths ?? {}) as Obj), ...Object.entries((doc.webhooks ?? {}) as Obj).map(([name, item]) => [`webhook ${name}`, item] as const)];
  for (const [path, item] of items) {
    const templated = path.startsWith("/") ? [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!) : [];
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const op = item[method] as Obj;
      const where = `${method.toUpperCase()} ${path}`;
      if (typeof op.operationId === "string") {
        if (operationIds.has(op.operationId)) problems.push(`${where}: operationId ${op.operationId} is used twice`);
        operationIds.add(op.operationId);
      }
      const seen = new Set<string>();
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])] as Obj[]) {
        const k = `${p.in}:${p.name}`;
        if (seen.has(k)) problems.push(`${where}: parameter ${p.name} (${p.in}) twice`);
        seen.add(k);
        if (p.in === "path" && !templated.includes(p.name)) problems.push(`${where}: path parameter ${p.name} is not in the path`);
      }
      for (const t of templated) if (!seen.has(`path:${t}`)) problems.push(`${where}: {${t}} is not a declared path parameter`);
      for (const req of (op.security ?? []) as Obj[]) for (const name of Object.keys(req)) if (!(name in schemes)) problems.push(`${where}: security scheme ${name} is not declared`);
    }
  }
  return problems;
}
