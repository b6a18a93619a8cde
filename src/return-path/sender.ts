/**
 * The envelope sender a message leaves with: for a sender domain with a return path
 * (MAIL FROM's domain first, then the From: header's), `b-<token>@RPDOMAIN` per recipient
 * (VERP); otherwise the stored MAIL FROM. The null sender stays null (RFC 5321 §4.5.5: a
 * DSN's own failure must not come back).
 */
import type { Sql } from "../db/raw.ts";
import { headerValues } from "../mime/headers.ts";
import { parseAddressList } from "../mime/addresses.ts";
import { CachedMap } from "../util/cached.ts";
import { returnPathOf } from "./store.ts";
import { returnLocalPart, type Mac } from "./token.ts";

// A change of return path reaches delivery within this.
const CACHE_MS = 5_000;
// The From: field lives in the header block; its first bytes hold it.
const HEAD_BYTES = 16_384;

/** For one message: the envelope sender of each recipient row. */
export type EnvelopeSenderOf = (recipientId: number) => Promise<string>;

export interface ReturnPaths {
  /** Null: the message leaves with its stored MAIL FROM, all recipients in one transaction. */
  senderFor(m: { id: string; mailFrom: string; raw: Uint8Array }): Promise<EnvelopeSenderOf | null>;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

function headerFromDomains(raw: Uint8Array): string[] {
  const from = headerValues(raw.subarray(0, HEAD_BYTES), "from")[0];
  return from ? (parseAddressList(from) ?? []).map((a) => a.domain.toLowerCase()) : [];
}

export function createReturnPaths(deps: { sql: Sql; mac: Mac; now?: () => number }): ReturnPaths {
  const now = deps.now ?? Date.now;
  const lookup = new CachedMap(CACHE_MS, (domains: string) => returnPathOf(deps.sql, domains.split(",")));
  return {
    async senderFor(m) {
      if (m.mailFrom === "") return null;
      const domains = [domainOf(m.mailFrom), ...headerFromDomains(m.raw)].filter((d, i, all) => d !== "" && all.indexOf(d) === i);
      const returnDomain = await lookup.get(domains.join(","), now());
      if (!returnDomain) return null;
      return async (recipientId) => {
        const local = await returnLocalPart(deps.mac, { messageId: m.id, recipientId });
        return local ? `${local}@${returnDomain}` : m.mailFrom;
      };
    },
  };
}
