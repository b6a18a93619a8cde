/**
 * MAIL FROM and RCPT TO parameters (RFC 5321 §4.1.2 esmtp-param):
 * SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT (RFC 3461),
 * AUTH (RFC 4954 §5). Anything else is refused with 555.
 */
import { replies, type Reply } from "../core/reply.ts";

export interface MailParams {
  size?: number;
  body?: "7BIT" | "8BITMIME";
  smtputf8: boolean;
  ret?: "FULL" | "HDRS";
  envid?: string;
  auth?: string;
}

export interface RcptParams {
  notify?: ("NEVER" | "SUCCESS" | "FAILURE" | "DELAY")[];
  orcpt?: string;
}

type Parsed<T> = { ok: true; params: T } | { ok: false; reply: Reply };

/** Splits "K=V K2 K3=V" into pairs; keys upper-cased, duplicates refused. */
function splitParams(text: string): { key: string; value: string | undefined }[] | Reply {
  const seen = new Set<string>();
  const out: { key: string; value: string | undefined }[] = [];
  for (const token of text.split(" ").filter((t) => t.length > 0)) {
    const eq = token.indexOf("=");
    const key = (eq < 0 ? token : token.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) return replies.syntax(`Bad parameter syntax: ${token}`);
    if (seen.has(key)) return replies.syntax(`Duplicate parameter ${key}`);
    seen.add(key);
    out.push({ key, value });
  }
  return out;
}

// RFC 3461 §4: xtext = *( xchar / hexchar ), hexchar = "+" 2HEXDIG
const XTEXT = /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/;

export function parseMailParams(text: string): Parsed<MailParams> {
  const pairs = splitParams(text);
  if (!Array.isArray(pairs)) return { ok: false, reply: pairs };
  const params: MailParams = { smtputf8: false };
  for (const { key, value } of pairs) {
    const bad = (what: string) => ({ ok: false as const, reply: replies.syntax(what) });
    switch (key) {
      case "SIZE":
        if (!value || !/^\d{1,15}$/.test(value)) return bad("SIZE needs a number");
        params.size = Number(value);
        break;
      case "BODY": {
        const v = value?.toUpperCase();
        if (v !== "7BIT" && v !== "8BITMIME") return { ok: false, reply: replies.unknownParameter(`BODY=${value ?? ""}`) };
        params.body = v;
        break;
      }
      case "SMTPUTF8":
        if (value !== undefined) return bad("SMTPUTF8 takes no value");
        params.smtputf8 = true;
        break;
      case "RET": {
        const v = value?.toUpperCase();
        if (v !== "FULL" && v !== "HDRS") return bad("RET must be FULL or HDRS");
        params.ret = v;
        break;
      }
      case "ENVID":
        if (!value || value.length > 100 || !XTEXT.test(value)) return bad("Bad ENVID");
        params.envid = value;
        break;
      case "AUTH":
        if (!value || !XTEXT.test(value)) return bad("Bad AUTH parameter");
        params.auth = value;
        break;
      default:
        return { ok: false, reply: replies.unknownParameter(key) };
    }
  }
  return { ok: true, params };
}

export function parseRcptParams(text: string): Parsed<RcptParams> {
  const pairs = splitParams(text);
  if (!Array.isArray(pairs)) return { ok: false, reply: pairs };
  const params: RcptParams = {};
  for (const { key, value } of pairs) {
    switch (key) {
      case "NOTIFY": {
        const list = (value ?? "").toUpperCase().split(",");
        const allowed = ["NEVER", "SUCCESS", "FAILURE", "DELAY"];
        if (!list.every((v) => allowed.includes(v)) || (list.includes("NEVER") && list.length > 1)) {
          return { ok: false, reply: replies.syntax("Bad NOTIFY parameter") };
        }
        params.notify = list as RcptParams["notify"];
        break;
      }
      case "ORCPT":
        // addr-type ";" xtext
        if (!value || !/^[A-Za-z0-9-]+;/.test(value) || !XTEXT.test(value.slice(value.indexOf(";") + 1))) {
          return { ok: false, reply: replies.syntax("Bad ORCPT parameter") };
        }
        params.orcpt = value;
        break;
      default:
        return { ok: false, reply: replies.unknownParameter(key) };
    }
  }
  return { ok: true, params };
}
