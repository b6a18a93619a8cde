/**
 * The Received: field for mail submitted over HTTP (RFC 5321 §4.4, RFC 5322 §3.6.7), as the
 * SMTP session writes its own (smtp/trace.ts): who handed the message over (the client's
 * address and the API key's public id, never the key), to which host, by which protocol,
 * and the queue id. Prepended before the gateway's checks, so it counts as a hop.
 */
import { rfc5322Date } from "../smtp/trace.ts";

export interface HttpTrace {
  /** The client's address as the entry resolved it (util/client-address.ts); null when the runtime told none. */
  clientAddress: string | null;
  /** The API key's id (the `sh_<id>_` part). */
  keyId: string;
  hostname: string;
  /** The request came over HTTPS (as the runtime saw its URL). */
  tls: boolean;
  /** The queue id the message is stored under. */
  id: string;
  recipients: readonly { address: string }[];
  now: Date;
}

/** RFC 5321 §4.1.3: an address literal, IPv6 with its tag. */
const literal = (address: string) => (address.includes(":") ? `[IPv6:${address}]` : `[${address}]`);

export function httpReceivedHeader(t: HttpTrace): string {
  const from = t.clientAddress === null ? "unknown" : literal(t.clientAddress);
  // Name the recipient only when there is one, so a message does not list its Bcc recipients.
  const only = t.recipients.length === 1 ? t.recipients[0] : undefined;
  const forClause = only ? `\r\n\tfor <${only.address}>` : "";
  return (
    `Received: from ${from} (key ${t.keyId})\r\n` +
    `\tby ${t.hostname} (smarthost) with ${t.tls ? "HTTPS" : "HTTP"} id ${t.id}${forClause};\r\n` +
    `\t${rfc5322Date(t.now)}\r\n`
  );
}

/** `raw` with the Received: field on top. */
export function withHttpReceived(raw: Uint8Array, t: HttpTrace): Uint8Array {
  const head = new TextEncoder().encode(httpReceivedHeader(t));
  const out = new Uint8Array(head.length + raw.length);
  out.set(head);
  out.set(raw, head.length);
  return out;
}
