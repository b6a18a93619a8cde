/**
 * Envelope addresses, RFC 5321 §4.1.2 (with RFC 6531 for SMTPUTF8).
 *
 * A source route ("@a,@b:user@c") is accepted and dropped (§4.1.1.3, appendix C: a server
 * SHOULD ignore it). "%" and "!" are ordinary local-part characters: the local part is
 * opaque and never interpreted as a route.
 */
import ipaddr from "ipaddr.js";

export interface Mailbox {
  readonly local: string;
  readonly domain: string;
  /** local@domain, as it travels on the wire (quoted local part kept quoted). */
  readonly address: string;
  /** True when the address holds non-ASCII characters (needs SMTPUTF8). */
  readonly utf8: boolean;
}

export type PathResult =
  | { ok: true; mailbox: Mailbox | null; rest: string }
  | { ok: false; reason: "syntax" | "utf8" | "too-long"; message: string };

// RFC 5322 atext; RFC 6531 adds UTF8-non-ascii.
const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const ATEXT_UTF8 = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;
const SUBDOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const SUBDOMAIN_UTF8 = /^[A-Za-z0-9\u0080-\u{10FFFF}](?:[A-Za-z0-9\u0080-\u{10FFFF}-]*[A-Za-z0-9\u0080-\u{10FFFF}])?$/u;
const NON_ASCII = /[^\x00-\x7f]/;

// RFC 5321 §4.5.3.1.1–3 (octets).
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_PATH = 256;

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

export function isDomain(s: string, utf8: boolean): boolean {
  if (s.length === 0 || utf8Length(s) > MAX_DOMAIN) return false;
  const re = utf8 ? SUBDOMAIN_UTF8 : SUBDOMAIN;
  return s.split(".").every((label) => label.length <= 63 && re.test(label));
}

/**
 * The IP address of an address literal (RFC 5321 §4.1.3): "[192.0.2.1]" or
 * "[IPv6:2001:db8::1]" (the tag in any case: domains are lower-cased on the way to the
 * queue). Null for anything else, general literals included.
 */
export function literalAddress(s: string): string | null {
  if (!s.startsWith("[") || !s.endsWith("]")) return null;
  const inner = s.slice(1, -1);
  if (ipaddr.IPv4.isValidFourPartDecimal(inner)) return inner;
  const v6 = /^IPv6:/i.test(inner) ? inner.slice(5) : null;
  // RFC 5321 IPv6-addr has no zone index ("%eth0"), which ipaddr.js would accept.
  return v6 !== null && !v6.includes("%") && ipaddr.IPv6.isValid(v6) ? v6 : null;
}

export function isAddressLiteral(s: string): boolean {
  if (literalAddress(s) !== null) return true;
  if (!s.startsWith("[") || !s.endsWith("]") || /^\[IPv6:/i.test(s)) return false;
  // General-address-literal: Standardized-tag ":" 1*dcontent
  return /^[A-Za-z0-9-]*[A-Za-z0-9]:[\x21-\x5a\x5e-\x7e]+$/.test(s.slice(1, -1));
}

/** Parses a Local-part: Dot-string or Quoted-string. Returns the wire form or null. */
function parseLocalPart(s: string, utf8: boolean): string | null {
  if (s.startsWith('"')) {
    if (s.length < 2 || !s.endsWith('"')) return null;
    const inner = s.slice(1, -1);
    for (let i = 0; i < inner.length; i++) {
      const c = inner.charCodeAt(i);
      if (c === 92) {
        // quoted-pairSMTP = %d92 %d32-126
        const n = inner.charCodeAt(++i);
        if (!(n >= 32 && n <= 126)) return null;
      } else if (c === 34) {
        return null;
      } else if (!((c >= 32 && c <= 126) || (utf8 && c >= 0x80))) {
        return null;
      }
    }
    return s;
  }
  const re = utf8 ? ATEXT_UTF8 : ATEXT;
  return s.split(".").every((atom) => re.test(atom)) ? s : null;
}

/** Splits "local@domain" at the last "@" outside a quoted string. */
function splitMailbox(s: string): [string, string] | null {
  let quoted = false;
  let at = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "@" && !quoted) at = i;
  }
  if (at <= 0 || quoted) return null;
  return [s.slice(0, at), s.slice(at + 1)];
}

export function parseMailbox(s: string, utf8Allowed: boolean): Mailbox | "utf8" | null {
  const parts = splitMailbox(s);
  if (!parts) return null;
  const [localRaw, domainRaw] = parts;
  const utf8 = NON_ASCII.test(s);
  if (utf8 && !utf8Allowed) return "utf8";
  const local = parseLocalPart(localRaw, utf8);
  if (local === null || utf8Length(local) > MAX_LOCAL) return null;
  if (!isAddressLiteral(domainRaw) && !isDomain(domainRaw, utf8)) return null;
  return { local, domain: domainRaw, address: `${local}@${domainRaw}`, utf8 };
}

/**
 * Parses "<path>" at the start of `arg` (the text after "FROM:" or "TO:"), returning the
 * mailbox (null for "<>" when allowed) and the remaining parameter text.
 */
export function parsePath(arg: string, opts: { allowNull: boolean; utf8: boolean }): PathResult {
  const s = arg.trimStart();
  if (!s.startsWith("<")) return { ok: false, reason: "syntax", message: "Address must be enclosed in <>" };
  const end = findPathEnd(s);
  if (end < 0) return { ok: false, reason: "syntax", message: "Unterminated address" };
  const inner = s.slice(1, end);
  const rest = s.slice(end + 1);
  if (rest.length > 0 && !rest.startsWith(" ")) return { ok: false, reason: "syntax", message: "Garbage after address" };
  if (utf8Length(inner) + 2 > MAX_PATH) return { ok: false, reason: "too-long", message: "Path too long" };
  if (inner === "") {
    return opts.allowNull
      ? { ok: true, mailbox: null, rest: rest.trim() }
      : { ok: false, reason: "syntax", message: "Null address not allowed here" };
  }
  const mailboxText = stripSourceRoute(inner, opts.utf8);
  if (mailboxText === null) return { ok: false, reason: "syntax", message: "Bad source route" };
  const mailbox = parseMailbox(mailboxText, opts.utf8);
  if (mailbox === "utf8") return { ok: false, reason: "utf8", message: "Non-ASCII address requires SMTPUTF8" };
  if (!mailbox) return { ok: false, reason: "syntax", message: "Bad address syntax" };
  return { ok: true, mailbox, rest: rest.trim() };
}

function findPathEnd(s: string): number {
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ">" && !quoted) return i;
  }
  return -1;
}

/** RFC 5321 §4.1.2 A-d-l = At-domain *( "," At-domain ) ":" — accepted, then ignored. */
function stripSourceRoute(inner: string, utf8: boolean): string | null {
  if (!inner.startsWith("@")) return inner;
  const colon = inner.indexOf(":");
  if (colon < 0) return null;
  const hops = inner.slice(0, colon).split(",");
  if (!hops.every((h) => h.startsWith("@") && isDomain(h.slice(1), utf8))) return null;
  return inner.slice(colon + 1);
}
