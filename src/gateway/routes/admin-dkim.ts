/**
 * /v1/admin/dkim: the `dkim` verbs over HTTP (list, add, rotate, activate, remove), calling
 * the same src/admin/dkim.ts functions as the CLI. Private keys are sealed before they are
 * stored and never answered; add and rotate answer with the TXT record to publish.
 */
import { Hono } from "hono";
import * as v from "valibot";
import type { Db } from "../../db/client.ts";
import { activateDkimKey, addDkimKey, listDkimKeys, removeDkimKey, rotateDkimKey, type DkimAdminDeps } from "../../admin/dkim.ts";
import type { TxtLookup } from "../../dkim/store.ts";
import type { SecretBox } from "../../secrets/cipher.ts";
import { adminDoc } from "./admin-doc.ts";
import { body, query } from "./admin-http.ts";
import * as s from "./admin-schemas.ts";
import { Failure } from "../../core/failure.ts";

export interface DkimRouteDeps {
  db: Db;
  secrets?: SecretBox | Promise<SecretBox>;
  /** Lets list activate pending selectors whose record is now published (where DNS is at hand). */
  lookupTxt?: TxtLookup;
  now: () => number;
}

const DomainFilter = v.object({ domain: v.optional(v.pipe(v.string(), v.minLength(1, "domain must not be empty"))) });
const params = { domain: "example.com", selector: "sh20260101" };

export function dkimAdminRoutes(deps: DkimRouteDeps): Hono {
  const app = new Hono();
  const base = (): DkimAdminDeps => ({ db: deps.db, lookupTxt: deps.lookupTxt, now: deps.now });
  // Making a key needs the box that seals it; as for routes, its absence is this node's state (503), not the request's fault.
  const sealing = async (): Promise<DkimAdminDeps> => {
    if (!deps.secrets) throw new Failure("temporary", "DKIM keys cannot be made here: SMARTHOST_SECRET_KEY is not set", { code: "no_secret_key" });
    return { ...base(), secrets: await deps.secrets };
  };

  app.get("/", adminDoc({ tag: "dkim", summary: "Signing keys with their state and DNS record; pending ones whose record is now published become active", query: [{ name: "domain", description: "only this domain's", example: "example.com" }], ok: v.array(s.DkimKey), errors: [400] }), async (c) =>
    c.json(await listDkimKeys(base(), query(c, DomainFilter).domain)),
  );
  app.post("/", adminDoc({ tag: "dkim", summary: "Make a signing key (RSA 2048 by default; both: RSA and Ed25519) that signs at once; answers with the TXT record(s) to publish", body: s.NewDkimKey, example: { domain: "example.com", algorithm: "rsa" }, ok: v.array(s.DkimKey), status: 201, errors: [400, 409, 503] }), async (c) => {
    const b = await body(c, s.NewDkimKey);
    return c.json(await addDkimKey(await sealing(), b.domain, { selector: b.selector, algorithm: b.algorithm }), 201);
  });
  app.post("/:domain/rotate", adminDoc({ tag: "dkim", summary: "A new selector per algorithm, pending until its record is published (or activate: true); the old one is then retired, still listed", params: { domain: params.domain }, body: s.DkimRotation, example: {}, ok: v.array(s.DkimKey), status: 201, errors: [400, 409, 503] }), async (c) => {
    const b = await body(c, s.DkimRotation);
    return c.json(await rotateDkimKey(await sealing(), c.req.param("domain"), { selector: b.selector, activate: b.activate }), 201);
  });
  app.post("/:domain/:selector/activate", adminDoc({ tag: "dkim", summary: "Sign with a pending (or retired) selector now", params, ok: s.DkimKey, errors: [400, 404] }), async (c) =>
    c.json(await activateDkimKey(base(), c.req.param("domain"), c.req.param("selector"))),
  );
  app.delete("/:domain/:selector", adminDoc({ tag: "dkim", summary: "Delete a key (keep its DNS record until mail signed with it is delivered)", params, ok: s.DkimRemoved, errors: [400, 404] }), async (c) => {
    await removeDkimKey(base(), c.req.param("domain"), c.req.param("selector"));
    return c.json({ domain: c.req.param("domain").toLowerCase(), selector: c.req.param("selector").toLowerCase() });
  });
  return app;
}
