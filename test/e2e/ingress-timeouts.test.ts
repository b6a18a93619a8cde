/**
 * The ingress's clocks on the running relay, over real sockets: an idle timeout reset by
 * input, a per-command deadline and a minimum data rate (src/smtp/deadlines.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { removeDir, startRelay, tempDir, useRelay, type Relay } from "../support/relay.ts";
import { RawSmtp } from "../support/smtp-client.ts";

// Idle 2 s; a command line must be done within 3 s of its first octet; data at ≥ 500 B/s.
const f = useRelay({
  SMARTHOST_ALLOW_INSECURE_AUTH: "true",
  SMARTHOST_SMTP_IDLE_TIMEOUT_SECONDS: "2",
  SMARTHOST_SMTP_COMMAND_DEADLINE_SECONDS: "3",
  SMARTHOST_SMTP_MIN_DATA_RATE: "500",
});

async function greeted(): Promise<RawSmtp> {
  const c = await RawSmtp.open(f.relay.smtpPort);
  expect((await c.replies(1))[0]).toStartWith("220 ");
  return c;
}

async function say(c: RawSmtp, line: string, expected: string): Promise<void> {
  c.write(`${line}\r\n`);
  const [r] = await c.replies(1);
  expect(r).toStartWith(expected);
}

/** Authenticated, one recipient, DATA answered 354. */
async function inData(): Promise<RawSmtp> {
  const c = await greeted();
  await say(c, "EHLO slow.test", "250 ");
  const plain = Buffer.from(`\0${f.tenant.username}\0${f.tenant.password}`).toString("base64");
  await say(c, `AUTH PLAIN ${plain}`, "235 ");
  await say(c, "MAIL FROM:<app@example.com>", "250 ");
  await say(c, "RCPT TO:<someone@example.net>", "250 ");
  await say(c, "DATA", "354 ");
  return c;
}

/** Writes `chunks` one every `everyMs` until the server hangs up or they run out; returns when it hung up (ms from start) or null. */
async function trickle(c: RawSmtp, chunks: string[], everyMs: number): Promise<number | null> {
  const start = Date.now();
  for (const chunk of chunks) {
    if (c.closed) return Date.now() - start;
    c.write(chunk);
    await Bun.sleep(everyMs);
  }
  return c.closed ? Date.now() - start : null;
}

describe("ingress clocks", () => {
  test("the idle timeout is reset by input: NOOP every second for twice the timeout stays open", async () => {
    const c = await greeted();
    await say(c, "EHLO busy.test", "250 ");
    const start = Date.now();
    while (Date.now() - start < 4500) {
      await say(c, "NOOP", "250 2.0.0");
      await Bun.sleep(1000);
    }
    expect(c.closed).toBe(false);
    await say(c, "QUIT", "221 ");
  });

  test("message data above the minimum rate, for longer than the idle timeout and the deadline, is accepted", async () => {
    const c = await inData();
    const head = "From: app@example.com\r\nTo: someone@example.net\r\nSubject: slow but steady\r\n\r\n";
    // 100 octets every 100 ms ≈ 1 000 B/s, for ~5 s.
    const lines = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(3, "0")} ${"x".repeat(94)}\r\n`);
    const cut = await trickle(c, [head, ...lines], 100);
    expect(cut).toBeNull();
    c.write(".\r\n");
    const [r] = await c.replies(1);
    expect(r).toStartWith("250 2.0.0 Ok: queued as");
    c.close();
  });

  test("message data dribbled below the minimum rate is cut with 421 4.4.2", async () => {
    const c = await inData();
    // 20 octets every 200 ms = 100 B/s: each read buys 40 ms of a 3 s allowance.
    const chunks = Array.from({ length: 100 }, () => "dribble dribble ..\r\n");
    const cut = await trickle(c, ["Subject: drip\r\n\r\n", ...chunks], 200);
    expect(cut).not.toBeNull();
    // Input kept coming every 200 ms, so the idle timer (2 s) cannot be what fired.
    expect(cut!).toBeGreaterThan(3000);
    expect(cut!).toBeLessThan(6000);
    expect(c.pending()).toContain("421 4.4.2 Message data arriving too slowly");
  });

  test("a command line still unfinished at the deadline is cut with 421 4.4.2", async () => {
    const c = await greeted();
    await say(c, "EHLO half.test", "250 ");
    // One octet every 500 ms keeps the connection from being idle, but the line never ends.
    const cut = await trickle(c, ["N", ..."OOOOOOOOOOOOOOOOOOOO"], 500);
    expect(cut).not.toBeNull();
    expect(cut!).toBeGreaterThan(2500);
    expect(cut!).toBeLessThan(5000);
    expect(c.pending()).toContain("421 4.4.2 Command not completed in time");
  });
});

describe("implicit TLS handshakes are counted and timed from the first moment", () => {
  let dir: string;
  let relay: Relay;
  beforeAll(async () => {
    dir = tempDir();
    relay = await startRelay(dir, {
      SMARTHOST_MAX_CONNECTIONS: "5",
      SMARTHOST_MAX_CONNECTIONS_PER_IP: "3",
      SMARTHOST_SMTP_IDLE_TIMEOUT_SECONDS: "30",
      SMARTHOST_SMTP_COMMAND_DEADLINE_SECONDS: "2",
    });
  });
  afterAll(async () => {
    await relay.stop();
    removeDir(dir);
  });

  /** A TCP socket to the implicit-TLS port that never starts its handshake. */
  function silent(from: string): Promise<{ socket: Socket; openedAt: number; closedAt: Promise<number> }> {
    return new Promise((resolve) => {
      const openedAt = Date.now();
      const socket = connect({ host: "127.0.0.1", port: relay.smtpsPort, localAddress: from });
      const closedAt = new Promise<number>((r) => socket.once("close", () => r(Date.now())));
      socket.on("error", () => {});
      // A refused socket may be reset before the client sees it open: that is a close too.
      socket.once("connect", () => resolve({ socket, openedAt, closedAt }));
      void closedAt.then(() => resolve({ socket, openedAt, closedAt }));
    });
  }

  /** Closed by the server within `ms` (a refusal), or still open (null). */
  const closedWithin = (closedAt: Promise<number>, ms: number) => Promise.race([closedAt, Bun.sleep(ms).then(() => null)]);

  test("silent sockets take places, are refused past the limits, and are closed by the deadline", async () => {
    const held = [await silent("127.0.0.1"), await silent("127.0.0.1"), await silent("127.0.0.1")];
    // A fourth from the same address: past the per-address limit, closed at once.
    const perIp = await silent("127.0.0.1");
    expect(await closedWithin(perIp.closedAt, 1000)).not.toBeNull();
    held.push(await silent("127.0.0.2"), await silent("127.0.0.2"));
    // A sixth from a new address: past the global limit.
    const global = await silent("127.0.0.3");
    expect(await closedWithin(global.closedAt, 1000)).not.toBeNull();
    // The five held ones are closed by the 2 s handshake deadline, not before.
    for (const h of held) {
      const lived = (await h.closedAt) - h.openedAt;
      expect(lived).toBeGreaterThan(1500);
      expect(lived).toBeLessThan(5000);
    }
    expect(relay.logs()).toContain('"event":"tls_handshake_timeout"');

    // Their places are free again: a real TLS client is served.
    const client = tlsConnect({ host: "127.0.0.1", port: relay.smtpsPort, rejectUnauthorized: false });
    const greeting = await new Promise<string>((resolve, reject) => {
      client.once("data", (d) => resolve(d.toString()));
      client.once("error", reject);
    });
    expect(greeting).toStartWith("220 relay.test");
    client.end("QUIT\r\n");
  });
});
