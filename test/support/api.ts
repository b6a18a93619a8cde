/**
 * The HTTP APIs of a running relay as tests call them: the admin API with the operator's
 * token, and POST /v1/messages with an account's key. `http` is read at each call, so a
 * helper made at module level works with a relay started in beforeAll.
 */

import { waitFor } from "./wait.ts";

/** An API answer: the status and the parsed JSON body (what the test goes on to look into). */
export interface ApiAnswer {
  status: number;
  /** Untyped on purpose: each test reads the fields it expects and compares them whole. */
  body: any;
}

/** `admin("POST", "/suppressions", {...})` against `${http()}/v1/admin`. */
export function adminClient(http: () => string, token: string): (method: string, path: string, body?: unknown) => Promise<ApiAnswer> {
  return async (method, path, body) => {
    const res = await fetch(`${http()}/v1/admin${path}`, { method, headers: { authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
}

/** A message submitted over the HTTP API with an account's key; the raw response. */
export function postMessage(http: string, apiKey: string, message: Record<string, unknown>): Promise<Response> {
  return fetch(`${http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body: JSON.stringify(message) });
}

/** A message's recipients' states as the admin API shows them, and a wait for all of them to reach one. */
export function queueStates(http: () => string, token: string) {
  const states = async (id: string): Promise<string[]> => {
    const res = await fetch(`${http()}/v1/admin/queue/${id}`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { recipients: { state: string }[] }).recipients.map((r) => r.state);
  };
  const settled = (id: string, state: string) => waitFor(`${id} ${state}`, async () => (await states(id)).every((s) => s === state) || undefined);
  return { states, settled };
}
