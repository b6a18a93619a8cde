/**
 * How a route is described in /openapi.json: built from the same valibot schemas it
 * validates with, its errors as references to the shared responses in our JSON shape
 * (openapi-paths.ts), and the scheme its bearer token belongs to.
 */
import { describeRoute, resolver } from "hono-openapi";
import type { MiddlewareHandler } from "hono";
import type * as v from "valibot";

export type ErrorStatus = 400 | 403 | 404 | 409 | 422 | 503;

export interface QueryDoc {
  name: string;
  description: string;
  required?: boolean;
  example?: string;
  /** The only values the route accepts. */
  values?: readonly string[];
}

export interface RouteDoc {
  summary: string;
  tag: string;
  body?: v.GenericSchema;
  example?: unknown;
  query?: QueryDoc[];
  /** Path parameters, with an example each. */
  params?: Record<string, string>;
  /** The success body; absent for 204. */
  ok?: v.GenericSchema;
  status?: 200 | 201 | 202 | 204;
  errors?: ErrorStatus[];
}

const ERROR_REFS: Record<ErrorStatus | 401 | 429, string> = {
  400: "#/components/responses/Invalid",
  401: "#/components/responses/Unauthenticated",
  403: "#/components/responses/Forbidden",
  404: "#/components/responses/NotFound",
  409: "#/components/responses/Conflict",
  422: "#/components/responses/AllSuppressed",
  429: "#/components/responses/Throttled",
  503: "#/components/responses/Unavailable",
};

const SUCCESS = { 200: "Done", 201: "Created", 202: "Accepted", 204: "Done, nothing to return" } as const;

/** `scheme`: an account's API key, or the admin token (whose failures are throttled: 429). */
export function routeDoc(d: RouteDoc, scheme: "apiKey" | "adminToken"): MiddlewareHandler {
  const errors: (ErrorStatus | 401 | 429)[] = [...(d.errors ?? []), 401, ...(scheme === "adminToken" ? [429 as const] : [])];
  const status = d.status ?? 200;
  return describeRoute({
    tags: [d.tag],
    summary: d.summary,
    security: [{ [scheme]: [] }],
    parameters: [
      ...Object.entries(d.params ?? {}).map(([name, example]) => ({ name, in: "path" as const, required: true, schema: { type: "string" as const }, example })),
      ...(d.query ?? []).map((q) => ({
        name: q.name,
        in: "query" as const,
        required: q.required ?? false,
        description: q.description,
        schema: q.values ? { type: "string" as const, enum: [...q.values] } : { type: "string" as const },
        ...(q.example ? { example: q.example } : {}),
      })),
    ],
    ...(d.body ? { requestBody: { required: true, content: { "application/json": { schema: resolver(d.body), ...(d.example !== undefined ? { example: d.example } : {}) } } } } : {}),
    responses: {
      [status]: d.ok ? { description: SUCCESS[status], content: { "application/json": { schema: resolver(d.ok) } } } : { description: SUCCESS[status] },
      ...Object.fromEntries(errors.map((s) => [s, { $ref: ERROR_REFS[s] }])),
    },
  });
}
