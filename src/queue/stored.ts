/** Reading a queued message back for delivery. */
import type { Sql } from "../db/raw.ts";

export interface StoredMessage {
  id: string;
  accountId: string;
  mailFrom: string;
  raw: Uint8Array;
  envid: string | null;
  ret: string | null;
  smtputf8: boolean;
  createdAt: number;
}

export async function loadMessage(sql: Sql, id: string): Promise<StoredMessage | null> {
  const rs = await sql.execute({
    sql: "SELECT id, account_id, mail_from, raw, envid, ret, smtputf8, created_at FROM messages WHERE id = ?",
    args: [id],
  });
  const r = rs.rows[0];
  if (!r) return null;
  return {
    id: r.id as string,
    accountId: r.account_id as string,
    mailFrom: r.mail_from as string,
    raw: new Uint8Array(r.raw as ArrayBuffer),
    envid: (r.envid as string | null) ?? null,
    ret: (r.ret as string | null) ?? null,
    smtputf8: Number(r.smtputf8) === 1,
    createdAt: Number(r.created_at),
  };
}
