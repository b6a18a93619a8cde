/** The CLI's `domain return-path …` and `account resume` over HTTP: the same src/admin functions. */
import { Hono } from "hono";
import * as v from "valibot";
import type { Db } from "../../db/client.ts";
import type { Sql } from "../../db/raw.ts";
import { addReturnPath, dropReturnPath, returnPathRows } from "../../admin/return-paths.ts";
import { resumeAccountByName } from "../../admin/complaints.ts";
import { adminDoc } from "./admin-doc.ts";
import { body } from "./admin-http.ts";
import { fieldIssue } from "../schemas.ts";

const ReturnPathRow = v.object({ domain: v.string(), return_domain: v.string(), mx: v.string(), created_at: v.string() });
const NewReturnPath = v.strictObject({ domain: v.pipe(v.string(), v.maxLength(253)), return_domain: v.pipe(v.string(), v.maxLength(253)) }, fieldIssue);

/** `inboundHost`: what the return-path domain's MX must name (the relay's hostname). */
export function returnsAdminRoutes(db: Db, sql: Sql, inboundHost: string): Hono {
  const app = new Hono();
  app.get("/return-paths", adminDoc({ tag: "domains", summary: "Sender domains with a VERP return path, and the MX record each needs", ok: v.array(ReturnPathRow) }), async (c) => c.json(await returnPathRows(sql, inboundHost)));
  app.post("/return-paths", adminDoc({ tag: "domains", summary: "Mail from domain leaves with the envelope sender b-<token>@return_domain; mx is the record to publish", body: NewReturnPath, example: { domain: "example.com", return_domain: "bounces.example.com" }, ok: ReturnPathRow, status: 201, errors: [400] }), async (c) => {
    const b = await body(c, NewReturnPath);
    return c.json(await addReturnPath(sql, b.domain, b.return_domain, inboundHost), 201);
  });
  app.delete("/return-paths/:domain", adminDoc({ tag: "domains", summary: "Mail from the domain leaves with its own MAIL FROM again", params: { domain: "example.com" }, ok: v.object({ domain: v.string() }), errors: [400, 404] }), async (c) => {
    await dropReturnPath(sql, c.req.param("domain"));
    return c.json({ domain: c.req.param("domain") });
  });
  app.post("/accounts/:name/resume", adminDoc({ tag: "accounts", summary: "Lift a complaint-rate pause: the account's new mail is accepted again", params: { name: "acme" }, ok: v.object({ name: v.string() }), errors: [404, 409] }), async (c) => {
    await resumeAccountByName(db, c.req.param("name"));
    return c.json({ name: c.req.param("name") });
  });
  return app;
}
