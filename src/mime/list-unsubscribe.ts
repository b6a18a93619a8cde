/**
 * The list header fields a sender of bulk mail is judged by: List-Unsubscribe (RFC 2369
 * §3.2), List-Unsubscribe-Post (RFC 8058 §3.1) and Precedence (a de-facto field; "bulk"
 * and "list" mark mail sent to many). Reading them, and the fields the relay adds.
 */
import { blankLineAt, headerValues } from "./headers.ts";

export interface ListHeaders {
  /** The message has a List-Unsubscribe field. */
  list: boolean;
  /** The message has a List-Unsubscribe-Post field (its sender offers one-click itself). */
  post: boolean;
  /** The mailto: URIs of its List-Unsubscribe fields, in order. */
  mailto: string[];
  /** Precedence: bulk or list. */
  bulk: boolean;
}

/** RFC 2369 §2: a list of URIs in angle brackets, separated by commas; whitespace inside the brackets is ignored. */
function uris(value: string): string[] {
  return [...value.matchAll(/<([^>]*)>/g)].map((m) => m[1]!.replace(/\s+/g, "")).filter((u) => u !== "");
}

export function listHeaders(raw: Uint8Array): ListHeaders {
  const list = headerValues(raw, "list-unsubscribe");
  return {
    list: list.length > 0,
    post: headerValues(raw, "list-unsubscribe-post").length > 0,
    mailto: list.flatMap(uris).filter((u) => /^mailto:[^\s<>,]+$/i.test(u)),
    bulk: headerValues(raw, "precedence").some((v) => /^(bulk|list)$/i.test(v.trim())),
  };
}

/**
 * The two fields of a one-click unsubscribe (RFC 8058 §3.1): the HTTPS URI first (the one
 * the POST goes to), then the sender's mailto: URIs (RFC 2369 §2: in order of preference),
 * each on a folded line of its own. Each line ends in CRLF.
 */
export function oneClickFields(httpsUri: string, mailto: readonly string[]): string {
  const list = [httpsUri, ...mailto].map((u) => `<${u}>`).join(",\r\n ");
  return `List-Unsubscribe: ${list}\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n`;
}

/** The message with `fields` (whole lines, each ending in CRLF) added at the end of its header block. */
export function appendHeaderFields(raw: Uint8Array, fields: string): Uint8Array {
  const blank = blankLineAt(raw);
  // Without an empty line the whole message is header; a last line without CRLF gets one first.
  const at = blank >= 0 ? blank + 2 : raw.length;
  const joint = blank < 0 && raw.length > 0 && !(raw[raw.length - 2] === 13 && raw[raw.length - 1] === 10) ? "\r\n" : "";
  const add = new TextEncoder().encode(joint + fields);
  const out = new Uint8Array(raw.length + add.length);
  out.set(raw.subarray(0, at));
  out.set(add, at);
  out.set(raw.subarray(at), at + add.length);
  return out;
}
