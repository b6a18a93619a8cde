/**
 * /v1/admin: traffic shaping — route health and quotas beside the route list, the relay's
 * own route events. The same src/admin and src/shaping functions as the CLI.
 */
import { Hono } from "hono";
import * as v from "valibot";
import type { Db } from "../../db/client.ts";
import { findRoute, listRoutes, maskRouteUrl } from "../../admin/route-list.ts";
import { setRouteQuota } from "../../admin/routes.ts";
import { recentRouteEvents } from "../../shaping/route-events.ts";
import { addShape, listShapes, removeShape } from "../../shaping/shapes.ts";
import { adminDoc } from "./admin-doc.ts";
import { body } from "./admin-http.ts";
import { fieldIssue } from "../schemas.ts";

const str = (what: string, max = 255) => v.pipe(v.string(`${what} must be a string`), v.minLength(1, `${what} must not be empty`), v.maxLength(max, `${what} is too long`));
const quota = (what: string) => v.optional(v.nullable(v.pipe(v.number(`${what} must be a number`), v.integer(`${what} must be a whole number`), v.minValue(1, `${what} must be at least 1`))));

export const RouteQuotaChange = v.strictObject(
  { domain: str("domain"), url: str("url", 2048), per_second: quota("per_second"), per_minute: quota("per_minute"), per_day: quota("per_day") },
  fieldIssue,
);
const n = v.nullable(v.number());
export const RouteListed = v.object({
  domain: v.string(),
  position: v.number(),
  url: v.string(),
  per_second: n,
  per_minute: n,
  per_day: n,
  health: v.nullable(v.picklist(["up", "down", "probing", "reopened"])),
  down_until: v.nullable(v.string()),
});
const positive = (what: string) => v.optional(v.pipe(v.number(`${what} must be a number`), v.integer(`${what} must be a whole number`), v.minValue(1, `${what} must be at least 1`)));
export const NewShape = v.strictObject({ pattern: str("pattern"), connections: positive("connections"), per_minute: positive("per_minute") }, fieldIssue);
const ShapeRow = v.object({ pattern: v.string(), connections: n, per_minute: n, rate_now: n, source: v.picklist(["operator", "default"]) });
const RouteEvent = v.object({ id: v.number(), type: v.string(), data: v.record(v.string(), v.unknown()), created_at: v.number() });

export function shapingAdminRoutes(db: Db): Hono {
  const app = new Hono();
  app.get("/routes/health", adminDoc({ tag: "routes", summary: "Routes with their quota and circuit-breaker health (up, down until, reopened once that is past, probing)", ok: v.array(RouteListed) }), async (c) => c.json(await listRoutes(db)));
  app.post("/routes/quota", adminDoc({ tag: "routes", summary: "Change a route's quota (null removes a limit); the route given by its URL as added or as listed", body: RouteQuotaChange, example: { domain: "*", url: "smtps://***@smtp.provider.test:465", per_second: 14, per_day: 50000 }, ok: RouteListed, errors: [400, 404, 409] }), async (c) => {
    const b = await body(c, RouteQuotaChange);
    const row = await findRoute(db, b.domain, b.url);
    await setRouteQuota(db, row.id, { perSecond: b.per_second, perMinute: b.per_minute, perDay: b.per_day });
    const listed = (await listRoutes(db)).find((r) => r.domain === row.domain && r.position === row.position);
    return c.json(listed ?? { domain: row.domain, position: row.position, url: maskRouteUrl(row.url) });
  });
  app.get("/routes/events", adminDoc({ tag: "routes", summary: "The latest route.degraded / route.recovered events, newest first", ok: v.array(RouteEvent) }), async (c) => c.json(await recentRouteEvents(db.$client)));
  app.get("/shapes", adminDoc({ tag: "shapes", summary: "Shapes in force (operator rows, then built-in defaults) with the pace now", ok: v.array(ShapeRow) }), async (c) => c.json(await listShapes(db)));
  app.post("/shapes", adminDoc({ tag: "shapes", summary: "Add or replace a destination's shape: a domain or an MX host pattern like *.google.com", body: NewShape, example: { pattern: "*.google.com", connections: 5, per_minute: 600 }, ok: ShapeRow, status: 201, errors: [400] }), async (c) => {
    const b = await body(c, NewShape);
    const shape = await addShape(db, b.pattern, { connections: b.connections, perMinute: b.per_minute }, Date.now());
    return c.json((await listShapes(db)).find((r) => r.pattern === shape.pattern && r.source === "operator"), 201);
  });
  app.delete("/shapes/:pattern", adminDoc({ tag: "shapes", summary: "Remove a shape", params: { pattern: "example.org" }, ok: v.object({ pattern: v.string() }), errors: [400, 404] }), async (c) => c.json({ pattern: await removeShape(db, c.req.param("pattern")) }));
  return app;
}
