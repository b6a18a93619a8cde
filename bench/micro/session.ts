/**
 * The whole SMTP session per message in one process, no sockets: smtp-source's dialog
 * (EHLO, MAIL, RCPT, DATA, the body in 64 KiB reads each in a new Buffer as Bun gives them,
 * QUIT) through a new SmtpSession each time, the handler in memory. Give source trees to
 * compare (a checkout of the old code, then this one), alternated in one minute.
 *
 *   node_modules/.bin/bun bench/micro/session.ts [size=102400] [root…]
 */
import { join } from "node:path";
import type { SubmissionHandler } from "../../src/smtp/handler.ts";
import { MemoryHandler } from "../../test/support/memory-handler.ts";

const size = Number(process.argv[2] ?? 102_400);
const roots = process.argv.slice(3);
if (roots.length === 0) roots.push(join(import.meta.dir, "..", ".."));
const N = size > 10_000 ? 3000 : 20_000;

const enc = new TextEncoder();
let text = "From: <bench@example.com>\r\nTo: <rcpt@dest.test>\r\nDate: Sun, 29 Nov 2026 09:53:04 +0000 (UTC)\r\nMessage-Id: <0977.0003.0004@vm>\r\n\r\n";
for (let i = 1; text.length < size; i++) text += `${i}${"X".repeat(79 - String(i).length)}\r\n`;
const wire = enc.encode(`${text}.\r\n`);
const reads: Uint8Array[] = [];
for (let at = 0; at < wire.length; at += 65536) reads.push(wire.subarray(at, at + 65536));
const commands = ["EHLO client.test\r\n", "MAIL FROM:<bench@example.com>\r\n", "RCPT TO:<rcpt@dest.test>\r\n", "DATA\r\n"].map((c) => enc.encode(c));
const quit = enc.encode("QUIT\r\n");
const config = { hostname: "relay.test", maxMessageBytes: 1 << 26, maxRecipients: 100, maxErrors: 10, tlsAvailable: false, allowInsecureAuth: true };

for (const root of roots) {
  const { SmtpSession } = (await import(join(root, "src", "smtp", "session.ts"))) as typeof import("../../src/smtp/session.ts");
  const memory = new MemoryHandler();
  // A trusted network's client, as smtp-source is in the bench.
  const handler: SubmissionHandler = {
    identify: async () => ({ username: "network", accountId: "bench" }),
    authenticate: memory.authenticate.bind(memory),
    checkSender: memory.checkSender.bind(memory),
    checkRecipient: memory.checkRecipient.bind(memory),
    accept: memory.accept.bind(memory),
  };
  const transport = { send: () => {}, startTls: async () => ({ protocol: "", cipher: "" }), close: () => {} };
  const peer = { remoteAddress: "127.0.0.1", remotePort: 40000, localPort: 25, tls: null };
  const one = async () => {
    const s = new SmtpSession(config, handler, transport, peer);
    s.start();
    for (const c of commands) await s.receive(c);
    for (const r of reads) await s.receive(Buffer.from(r));
    await s.receive(quit);
    if (memory.stored.length !== 1) throw new Error("message not accepted");
    memory.stored.length = 0;
  };
  for (let i = 0; i < N / 5; i++) await one();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await one();
  console.log(`${root}: ${size} B, ${(((performance.now() - t0) / N) * 1000).toFixed(1)} µs per session (${N} sessions)`);
}
