/** How each admin route is described in /openapi.json: built from the same valibot schemas it validates with. */
import { describeRoute, resolver } from "hono-openapi";
import type { MiddlewareHandler } from "hono";
import type * as v from "valibot";

export type ErrorStatus = 400 | 404 | 409;

export interface RouteDoc {
  summary: string;
  tag: string;
  body?: v.GenericSchema;
  example?: unknown;
  query?: { name: string; description: string; required?: boolean; example?: string }[];
  /** Path parameters, with an example each. */
  params?: Record<string, string>;
  ok: v.GenericSchema;
  status?: 200 | 201;
  errors?: ErrorStatus[];
}

const ERROR_REFS: Record<ErrorStatus | 401 | 429, string> = {
  400: "#/components/responses/Invalid",
  401: "#/components/responses/Unauthenticated",
  404: "#/components/responses/NotFound",
  409: "#/components/responses/Conflict",
  429: "#/components/responses/Throttled",
};

export function adminDoc(d: RouteDoc): MiddlewareHandler {
  const errors: (ErrorStatus | 401 | 429)[] = [...(d.errors ?? []), 401, 429];
  return describeRoute({
    tags: [d.tag],
    summary: d.summary,
    security: [{ adminToken: [] }],
    parameters: [
      ...Object.entries(d.params ?? {}).map(([name, example]) => ({ name, in: "path" as const, required: true, schema: { type: "string" as const }, example })),
      ...(d.query ?? []).map((q) => ({ name: q.name, in: "query" as const, required: q.required ?? false, description: q.description, schema: { type: "string" as const }, ...(q.example ? { example: q.example } : {}) })),
    ],
    ...(d.body ? { requestBody: { required: true, content: { "application/json": { schema: resolver(d.body), ...(d.example !== undefined ? { example: d.example } : {}) } } } } : {}),
    responses: {
      [d.status ?? 200]: { description: "Done", content: { "application/json": { schema: resolver(d.ok) } } },
      ...Object.fromEntries(errors.map((s) => [s, { $ref: ERROR_REFS[s] }])),
    },
  });
}
