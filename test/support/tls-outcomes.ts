/** For the MTA-STS tests: test certificates, and an attempt's TLS outcome read back as stored and as /metrics counts it. */
import { generate } from "selfsigned";
import type { Database } from "../../src/db/client.ts";
import type { TlsRecord } from "../../src/core/tls-record.ts";
import { createMetrics } from "../../src/gateway/metrics.ts";

/** An EC certificate for these DNS names (the first is the CN), valid now unless told otherwise. */
export async function certificate(names: string[], validity: { notBeforeDate?: Date; notAfterDate?: Date } = {}) {
  const p = await generate([{ name: "commonName", value: names[0]! }], {
    ...validity,
    keyType: "ec",
    curve: "P-256",
    extensions: [{ name: "subjectAltName", altNames: names.map((value) => ({ type: 2, value })) }],
  });
  return { cert: p.cert, key: p.private };
}

/** The TLS outcome stored for a domain's latest message: on its recipient row and its last event. */
export async function storedTls(database: Database, domain: string): Promise<{ id: string; recipient: TlsRecord | null; event: TlsRecord | null }> {
  const rcpt = (await database.sql.execute({ sql: "SELECT message_id, last_tls FROM recipients WHERE domain = ? ORDER BY id DESC LIMIT 1", args: [domain] })).rows[0]!;
  const id = String(rcpt.message_id);
  const ev = (await database.sql.execute({ sql: "SELECT tls FROM events WHERE message_id = ? ORDER BY id DESC LIMIT 1", args: [id] })).rows[0]!;
  const parse = (v: unknown) => (v === null ? null : (JSON.parse(String(v)) as TlsRecord));
  return { id, recipient: parse(rcpt.last_tls), event: parse(ev.tls) };
}

/** smarthost_delivery_tls_total for one label pair, as /metrics renders it. */
export async function tlsCount(database: Database, outcome: string, resultType: string): Promise<number> {
  const text = await createMetrics(database.db).render();
  const line = text.split("\n").find((l) => l.startsWith(`smarthost_delivery_tls_total{outcome="${outcome}",result_type="${resultType}"} `));
  return line ? Number(line.split(" ").at(-1)) : 0;
}
