/** The JSON API's message fields, as both MIME writers (direct.ts, compose.ts) take them. */
import type { NamedAddress } from "./addresses.ts";

export interface Composition {
  from: NamedAddress;
  to: NamedAddress[];
  cc: NamedAddress[];
  replyTo: NamedAddress[];
  subject?: string;
  text?: string;
  html?: string;
  headers: Record<string, string>;
  attachments: { filename: string; contentType?: string; content: Uint8Array }[];
  messageIdDomain: string;
}
