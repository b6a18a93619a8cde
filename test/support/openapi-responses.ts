/**
 * Checks a response (or a webhook body) against the schema the served document gives for
 * it, with Ajv's JSON Schema 2020-12 (the dialect of OpenAPI 3.1 schemas; installed with
 * the OpenAPI validator). Returns the problems found, none when the body is as documented.
 */
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

type Obj = Record<string, any>;

export function resolveRef(doc: Obj, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let cur: unknown = doc;
  for (const part of ref.slice(2).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Obj)[part];
  }
  return cur;
}

export function schemaChecker(doc: Obj) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // The whole document under an id, so the schemas' own #/components/… references resolve.
  ajv.addSchema({ ...doc, $id: "doc" });
  const check = (pointer: string, body: unknown): string[] => {
    const validate = ajv.compile({ $ref: `doc#${pointer}` });
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
  };
  const esc = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
  return {
    /** A response of an operation in `paths`; one not documented for that status is a problem too. */
    response(method: string, path: string, status: number, body: unknown): string[] {
      const where = `${method.toUpperCase()} ${path} ${status}`;
      const given = doc.paths?.[path]?.[method]?.responses?.[String(status)] as Obj | undefined;
      if (!given) return [`${where}: not a documented response`];
      // A shared response (#/components/responses/…) or the operation's own.
      const base = typeof given.$ref === "string" ? given.$ref.slice(1) : `/paths/${esc(path)}/${method}/responses/${status}`;
      const res = typeof given.$ref === "string" ? (resolveRef(doc, given.$ref) as Obj) : given;
      if (!res?.content?.["application/json"]?.schema) return body === null ? [] : [`${where}: a body where none is documented`];
      return check(`${base}/content/application~1json/schema`, body).map((p) => `${where}: ${p}`);
    },
    /** The body the relay POSTs for one event type (the document's `webhooks` section). */
    webhook(type: string, body: unknown): string[] {
      if (!doc.webhooks?.[type]) return [`${type}: not in the webhooks section`];
      return check(`/webhooks/${esc(type)}/post/requestBody/content/application~1json/schema`, body).map((p) => `${type}: ${p}`);
    },
  };
}
