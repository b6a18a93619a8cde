/**
 * Structural checks of an OpenAPI 3.1 document, for want of a validator package in the
 * install: the rules of the specification that can be checked without a JSON Schema
 * engine. Returns the problems found (none when the document is sound).
 */
type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const STATUS = /^([1-5]\d\d|[1-5]XX|default)$/;
const LOCATIONS = ["query", "header", "path", "cookie"];

export function resolveRef(doc: Obj, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let cur: unknown = doc;
  for (const part of ref.slice(2).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))) {
    if (!isObj(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

export function checkOpenApi31(doc: Obj): string[] {
  const problems: string[] = [];
  const bad = (where: string, what: string) => problems.push(`${where}: ${what}`);
  if (typeof doc.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) bad("openapi", "must be 3.1.x");
  const info = doc.info;
  if (!isObj(info) || typeof info.title !== "string" || typeof info.version !== "string") bad("info", "needs title and version strings");
  if (!isObj(doc.paths)) bad("paths", "must be an object");
  const schemes = isObj(doc.components) && isObj(doc.components.securitySchemes) ? doc.components.securitySchemes : {};

  // Every $ref anywhere must resolve inside the document.
  const walk = (x: unknown, where: string) => {
    if (Array.isArray(x)) return x.forEach((y, i) => walk(y, `${where}[${i}]`));
    if (!isObj(x)) return;
    if (typeof x.$ref === "string" && resolveRef(doc, x.$ref) === undefined) bad(where, `unresolved $ref ${x.$ref}`);
    for (const [k, v] of Object.entries(x)) walk(v, `${where}.${k}`);
  };
  walk(doc, "#");

  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(isObj(doc.paths) ? doc.paths : {})) {
    if (!path.startsWith("/")) bad(path, "path must start with /");
    if (!isObj(item)) {
      bad(path, "path item must be an object");
      continue;
    }
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const op = item[method];
      const where = `${method.toUpperCase()} ${path}`;
      if (!isObj(op)) {
        bad(where, "operation must be an object");
        continue;
      }
      if (typeof op.operationId === "string") {
        if (operationIds.has(op.operationId)) bad(where, `duplicate operationId ${op.operationId}`);
        operationIds.add(op.operationId);
      }
      const params = (Array.isArray(op.parameters) ? op.parameters : []).map((p) => (isObj(p) && typeof p.$ref === "string" ? resolveRef(doc, p.$ref) : p));
      const seen = new Set<string>();
      for (const p of params) {
        if (!isObj(p) || typeof p.name !== "string" || !LOCATIONS.includes(String(p.in))) {
          bad(where, "parameter needs a name and in: query|header|path|cookie");
          continue;
        }
        if (seen.has(`${p.in}:${p.name}`)) bad(where, `parameter ${p.name} twice`);
        seen.add(`${p.in}:${p.name}`);
        if (!("schema" in p) === !("content" in p)) bad(where, `parameter ${p.name} needs exactly one of schema, content`);
        if (p.in === "path" && (p.required !== true || !templated.includes(p.name))) bad(where, `path parameter ${p.name} must be required and in the path`);
      }
      for (const t of templated) if (!seen.has(`path:${t}`)) bad(where, `path parameter {${t}} not declared`);
      if (op.requestBody !== undefined && (!isObj(op.requestBody) || (!isObj(op.requestBody.content) && typeof op.requestBody.$ref !== "string"))) bad(where, "requestBody needs content");
      if (!isObj(op.responses) || Object.keys(op.responses).length === 0) bad(where, "needs at least one response");
      for (const [status, res] of Object.entries(isObj(op.responses) ? op.responses : {})) {
        if (!STATUS.test(status)) bad(where, `response key ${status} is not a status code`);
        const r = isObj(res) && typeof res.$ref === "string" ? resolveRef(doc, res.$ref) : res;
        if (!isObj(r) || typeof r.description !== "string") bad(where, `response ${status} needs a description`);
      }
      for (const req of Array.isArray(op.security) ? op.security : []) {
        for (const name of Object.keys(isObj(req) ? req : {})) if (!(name in schemes)) bad(where, `security scheme ${name} not defined`);
      }
    }
  }
  return problems;
}
