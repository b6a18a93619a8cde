/**
 * The ingress keeps views of what the socket reads instead of copying each read: a large
 * message arriving in many reads, plain and inside STARTTLS, is stored byte for byte (after
 * the Received: header the relay prepends), with 8-bit octets and dot-stuffed lines.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliOk, openDb, useRelay } from "../support/relay.ts";
import { PY_PRELUDE, python } from "../support/python.ts";
import { RawSmtp } from "../support/smtp-client.ts";

const f = useRelay({}, async (dir) => {
  await cliOk(dir, ["network", "allow", "acme", "127.0.0.1/32"]);
});

/** ~300 KiB: 80-octet lines, some with 8-bit octets, some starting with dots. */
function original(tag: string): Buffer {
  // With its own Date: and Message-ID:, so the relay adds none (src/mime/submission-fields.ts).
  const lines = [`From: alice@example.com`, `To: bob@dest.test`, `Date: Mon, 7 Dec 2026 08:00:00 +0000`, `Message-ID: <bytes-${tag}@example.com>`, `Subject: bytes ${tag}`, ""];
  for (let i = 0; i < 3800; i++) {
    if (i % 97 === 0) lines.push(`.${".".repeat(i % 3)}dot line ${i}`);
    else if (i % 89 === 0) lines.push(`Gr\xfc\xdfe \xff\x80 ${i} ${"\xe9".repeat(60)}`);
    else lines.push(`${i} ${"x".repeat(77 - String(i).length)}`);
  }
  return Buffer.from(`${lines.join("\r\n")}\r\n`, "latin1");
}

/** RFC 5321 §4.5.2: a leading dot doubled on the wire. */
const dotStuffed = (m: Buffer) => Buffer.from(m.toString("latin1").replace(/^\./gm, ".."), "latin1");

async function stored(id: string): Promise<Buffer> {
  const db = openDb(f.relay.dbUrl);
  try {
    const row = (await db.execute({ sql: "SELECT raw FROM messages WHERE id = ?", args: [id] })).rows[0]!;
    return Buffer.from(row.raw as ArrayBuffer);
  } finally {
    db.close();
  }
}

function expectStoredAsSent(raw: Buffer, sent: Buffer): void {
  const trace = raw.subarray(0, raw.length - sent.length).toString("latin1");
  expect(trace).toMatch(/^Received: from [^\r\n]+\r\n(\t[^\r\n]+\r\n)+$/);
  expect(Buffer.compare(raw.subarray(raw.length - sent.length), sent)).toBe(0);
}

describe("a large message in many reads", () => {
  test("plain: written in 1 000-octet pieces, stored byte for byte", async () => {
    const sent = original("plain");
    const c = await RawSmtp.open(f.relay.smtpPort);
    try {
      await c.replies(1);
      c.write("EHLO client.test\r\n");
      await c.replies(1);
      c.write("MAIL FROM:<alice@example.com> BODY=8BITMIME\r\n");
      c.write("RCPT TO:<bob@dest.test>\r\n");
      c.write("DATA\r\n");
      expect((await c.replies(3)).map((r) => r.slice(0, 3))).toEqual(["250", "250", "354"]);
      const wire = Buffer.concat([dotStuffed(sent), Buffer.from(".\r\n")]);
      for (let at = 0; at < wire.length; at += 1000) {
        // Each piece handed to the kernel before the next is written.
        await new Promise<void>((resolve, reject) => c.socket.write(wire.subarray(at, at + 1000), (err) => (err ? reject(err) : resolve())));
      }
      const [done] = await c.replies(1, 15_000);
      expect(done).toMatch(/^250 /);
      expectStoredAsSent(await stored(/queued as (\S+)/.exec(done!)![1]!), sent);
    } finally {
      c.close();
    }
  });

  test("STARTTLS (Python smtplib): TLS records as reads, stored byte for byte", async () => {
    const sent = original("tls");
    const file = join(f.dir, "tls-message.eml");
    writeFileSync(file, sent);
    const text = await python<string>(
      `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.starttls(context=ctx)
s.login(sys.argv[2], sys.argv[3])
s.mail('alice@example.com', ['BODY=8BITMIME'])
s.rcpt('bob@dest.test')
code, text = s.data(open(sys.argv[4], 'rb').read())
s.quit()
out(text.decode())`,
      [f.relay.smtpPort, f.tenant.username, f.tenant.password, file],
    );
    expectStoredAsSent(await stored(/queued as (\S+)/.exec(text)![1]!), sent);
  });
});
