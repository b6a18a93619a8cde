/** Speaks the handoff protocol as an ingress node (or someone holding its token) would. */
import { deriveLinkKeys, signRequest } from "../../src/gateway/link-auth.ts";
import { encodeMessageBody, HANDOFF_CONTENT_TYPE, HANDOFF_PATH } from "../../src/gateway/handoff.ts";

export interface Sent {
  status: number;
  body: Record<string, unknown>;
}

export interface CapturedRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Signs and posts one step; returns the status, the parsed JSON and the request as sent. */
export async function signedPost(gateway: string, token: string, step: string, body: unknown, raw?: Uint8Array): Promise<Sent & { request: CapturedRequest }> {
  const bytes = raw !== undefined ? encodeMessageBody(body, raw) : body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
  const path = `${HANDOFF_PATH}/${step}`;
  const keys = await deriveLinkKeys(token);
  const headers = { "content-type": raw !== undefined ? HANDOFF_CONTENT_TYPE : "application/json", ...(await signRequest(keys.request, "POST", path, bytes)) };
  const request = { url: `${gateway}${path}`, headers, body: bytes };
  return { ...(await send(request)), request };
}

export async function send(request: CapturedRequest): Promise<Sent> {
  const res = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body, redirect: "manual" });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export function session(sessionId: string, principal: unknown = null) {
  return { sessionId, remoteAddress: "127.0.0.1", remotePort: 40000, localPort: 2525, tls: null, helo: "client.test", esmtp: true, principal, authenticated: principal !== null };
}

export const mailbox = (address: string) => ({ address, local: address.split("@")[0], domain: address.split("@")[1], utf8: false });
