/**
 * Bulk mail without one-click unsubscribe, as `domain check` shows it: since 2024 Gmail and
 * Yahoo refuse bulk mail (RFC 3834 `Precedence: bulk|list`) that lacks List-Unsubscribe
 * (RFC 2369) with one-click (RFC 8058). The relay accepts it with a warning; this check
 * counts what was sent from the domain lately, so the operator sees it where the other
 * deliverability records are. No bulk mail: no row.
 */
import type { Sql } from "../db/raw.ts";
import { headerValues } from "../mime/headers.ts";
import type { Check } from "./records.ts";

const WINDOW_MS = 7 * 86_400_000;
// The newest messages looked at; the header block is all that is read of each.
const SAMPLE = 500;
const HEAD_BYTES = 16 * 1024;

export async function checkBulk(sql: Sql, domain: string, now: number): Promise<Check | null> {
  const rs = await sql.execute({
    sql: "SELECT substr(raw, 1, ?) AS head FROM messages WHERE mail_from LIKE ? ESCAPE '\\' AND created_at >= ? AND source <> 'dsn' ORDER BY created_at DESC LIMIT ?",
    args: [HEAD_BYTES, `%@${domain.replace(/[\\%_]/g, (c) => `\\${c}`)}`, now - WINDOW_MS, SAMPLE],
  });
  let bulk = 0;
  let without = 0;
  for (const row of rs.rows) {
    const head = row.head instanceof ArrayBuffer ? new Uint8Array(row.head) : (row.head as Uint8Array | null);
    if (!head) continue;
    if (!headerValues(head, "precedence").some((v) => /^\s*(bulk|list)\s*$/i.test(v))) continue;
    bulk++;
    if (headerValues(head, "list-unsubscribe").length === 0 || headerValues(head, "list-unsubscribe-post").length === 0) without++;
  }
  if (bulk === 0) return null;
  const found = `${bulk} bulk message(s) from ${domain} in the last 7 days (of the newest ${SAMPLE})`;
  if (without === 0) return { check: "bulk", ok: true, found, detail: "every bulk message carries one-click unsubscribe (RFC 8058)" };
  return { check: "bulk", ok: false, found, detail: `${without} without one-click unsubscribe (List-Unsubscribe + List-Unsubscribe-Post): Gmail and Yahoo refuse such bulk mail; turn it on with account update NAME --list-unsubscribe one-click (needs SMARTHOST_PUBLIC_URL)` };
}
