/** How each admin route is described in /openapi.json (route-doc.ts), under the admin token. */
import type { MiddlewareHandler } from "hono";
import { routeDoc, type RouteDoc } from "./route-doc.ts";

export type { ErrorStatus, RouteDoc } from "./route-doc.ts";

export const adminDoc = (d: RouteDoc): MiddlewareHandler => routeDoc(d, "adminToken");
