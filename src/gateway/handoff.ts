/**
 * The wire form of the ingress → gateway handoff for ingress-only nodes: each
 * SubmissionHandler call as one HTTP request. A message travels as one body: a JSON line
 * (session, envelope, proposed id) then the raw octets, so nothing is re-encoded.
 */
export const HANDOFF_PATH = "/internal/smtp";
export const HANDOFF_CONTENT_TYPE = "application/vnd.smarthost.message";

export function encodeMessageBody(meta: unknown, raw: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`${JSON.stringify(meta)}\n`);
  const out = new Uint8Array(head.length + raw.length);
  out.set(head, 0);
  out.set(raw, head.length);
  return out;
}

export function decodeMessageBody(body: Uint8Array): { meta: unknown; raw: Uint8Array } | null {
  const lf = body.indexOf(10);
  if (lf < 0) return null;
  try {
    return { meta: JSON.parse(new TextDecoder().decode(body.subarray(0, lf))), raw: body.subarray(lf + 1) };
  } catch {
    return null;
  }
}
