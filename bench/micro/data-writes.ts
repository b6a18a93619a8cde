/**
 * Why encode.ts writes a large message as it is stored plus the terminator, but joins a
 * small one: CPU of this process per message sent over node:net to smtp-sink (loopback,
 * TCP_NODELAY), either one joined copy (message + ".\r\n") or two writes (the message, then
 * the terminator). Alternate the modes and sizes in one minute.
 *
 *   node_modules/.bin/bun bench/micro/data-writes.ts copy|parts [size=102400] [messages=3000]
 */
import { connect } from "node:net";
import { freeTcpPort } from "../../test/support/ports.ts";
import { requireTool } from "../../test/support/require-tool.ts";

const mode = process.argv[2] ?? "parts";
const size = Number(process.argv[3] ?? 102_400);
const N = Number(process.argv[4] ?? 3000);
const message = new Uint8Array(size).fill(88);
const TERMINATOR = new Uint8Array([46, 13, 10]);

const port = await freeTcpPort();
const sink = Bun.spawn([requireTool("smtp-sink"), "-u", "postfix", `127.0.0.1:${port}`, "100"], { stdout: "ignore", stderr: "ignore" });
try {
  await Bun.sleep(300);
  const sock = connect(port, "127.0.0.1");
  sock.setNoDelay(true);
  await new Promise((r) => sock.once("connect", r));
  sock.on("data", () => {});
  const write = (b: Uint8Array) => new Promise<void>((res, rej) => sock.write(b, (e) => (e ? rej(e) : res())));
  await write(new TextEncoder().encode("EHLO bench.test\r\n"));
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    await write(new TextEncoder().encode("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@dest.test>\r\nDATA\r\n"));
    if (mode === "copy") {
      const out = new Uint8Array(message.length + 3);
      out.set(message);
      out.set(TERMINATOR, message.length);
      await write(out);
    } else {
      await write(message);
      await write(TERMINATOR);
    }
  }
  const u = process.cpuUsage(before);
  console.log(`${mode} ${size} B: ${((u.user + u.system) / N).toFixed(1)} µs CPU per message (user ${(u.user / N).toFixed(1)}, system ${(u.system / N).toFixed(1)})`);
  sock.destroy();
} finally {
  sink.kill();
  await sink.exited;
}
