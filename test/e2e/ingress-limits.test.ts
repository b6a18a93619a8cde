/** The ingress's defences against hostile or broken clients, on the running relay. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { waitFor } from "../support/wait.ts";

let dir: string;
let relay: Relay;

beforeAll(async () => {
  dir = tempDir();
  relay = await startRelay(dir, {
    SMARTHOST_MAX_CONNECTIONS_PER_IP: "3",
    SMARTHOST_SMTP_IDLE_TIMEOUT_SECONDS: "2",
    SMARTHOST_GREET_DELAY_MS: "300",
  });
});
afterAll(async () => {
  await relay.stop();
  removeDir(dir);
});

async function greeted(): Promise<RawSmtp> {
  const c = await RawSmtp.open(relay.smtpPort);
  const [greeting] = await c.replies(1);
  expect(greeting).toStartWith("220 relay.test");
  return c;
}

/** Sends `input`; the reply must start with `expected` and the server must hang up. */
async function answeredThenClosed(c: RawSmtp, input: string, expected: string): Promise<void> {
  c.write(input);
  const [r] = await c.replies(1);
  expect(r).toStartWith(expected);
  // Well inside the 2 s idle timeout, so the close is the answer's, not the timer's.
  await c.waitClosed(1000);
}

describe("ingress limits", () => {
  test("refuses an early talker", async () => {
    await answeredThenClosed(await RawSmtp.open(relay.smtpPort), "EHLO hasty.test\r\n", "554 5.5.0");
  });

  test("limits connections per address with 421", async () => {
    const held = [await greeted(), await greeted(), await greeted()];
    const extra = await RawSmtp.open(relay.smtpPort);
    const [r] = await extra.replies(1);
    expect(r).toStartWith("421 4.7.0");
    for (const c of held) c.close();
    // The server counts a connection until it has seen it close: ask until it has.
    const again = await waitFor("a greeting once the held connections are closed", async () => {
      const c = await RawSmtp.open(relay.smtpPort);
      const [greeting] = await c.replies(1);
      if (greeting?.startsWith("220 relay.test")) return c;
      expect(greeting).toStartWith("421 4.7.0");
      c.close();
      return undefined;
    }, 5000);
    again.close();
  });

  test("closes an idle connection with 421 4.4.2", async () => {
    const c = await greeted();
    const [r] = await c.replies(1, 5000);
    expect(r).toStartWith("421 4.4.2");
  });

  test("cuts off a client that never reads its replies, with bounded memory", async () => {
    const c = await greeted();
    c.socket.pause();
    // ~2 MiB of NOOPs: the replies would exceed the output cap if kept.
    const noops = "NOOP\r\n".repeat(350_000);
    c.write("EHLO flood.test\r\n");
    // The flood must come after the EHLO reply (before it, it is cut off as improper pipelining).
    await waitFor("the EHLO reply", () => c.socket.readableLength > 0 || undefined, 5000);
    c.write(noops);
    // Nothing more is read: the kernel buffers fill and the server must give up on us.
    await waitFor("the server to drop the client that does not read", () => relay.logs().includes('"event":"output_overflow"') || undefined, 10_000);
    c.socket.resume();
    await c.waitClosed(5000);
    // The server still serves others.
    const other = await greeted();
    other.write("QUIT\r\n");
    expect((await other.replies(1))[0]).toStartWith("221");
  });

  test("closes on an HTTP request", async () => {
    await answeredThenClosed(await greeted(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "554 5.5.1");
  });

  test("answers a bare LF in a command with 554 5.5.2 and closes", async () => {
    const c = await greeted();
    c.write("EHLO x.test\r\n");
    await c.replies(1);
    c.write("MAIL FROM:<a@example.com>\r\n");
    await c.replies(1);
    await answeredThenClosed(c, "NOOP\n", "554 5.5.2");
  });
});
