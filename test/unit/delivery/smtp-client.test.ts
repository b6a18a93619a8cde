import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { sendMessage, type SmtpTarget } from "../../../src/delivery/smtp-client.ts";
import type { OutboundMessage } from "../../../src/delivery/smtp-transaction.ts";
import { createNodeConnect } from "../../../src/runtime/node-socket.ts";
import { startUpstream, type Upstream } from "../../support/upstream.ts";

const ups: Upstream[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const u of ups.splice(0)) await u.close();
  for (const s of servers.splice(0)) s.close();
});

async function upstream(opts: Parameters<typeof startUpstream>[0] = {}) {
  const u = await startUpstream(opts);
  ups.push(u);
  return u;
}

const raw = (body = "hello\r\n.leading dot\r\n") => new TextEncoder().encode(`From: a@example.com\r\nTo: b@dest.test\r\nSubject: t\r\n\r\n${body}`);
const message = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  mailFrom: "a@example.com",
  recipients: [{ address: "b@dest.test" }, { address: "c@dest.test" }],
  raw: raw(),
  smtputf8: false,
  ...over,
});
const target = (u: Upstream, over: Partial<SmtpTarget> = {}): SmtpTarget => ({
  hostname: "127.0.0.1",
  port: u.port,
  tls: "starttls-required",
  verifyTls: true,
  relay: true,
  ...over,
});

describe("SMTP client against smtp-server", () => {
  test("STARTTLS with a verified certificate, AUTH, byte-identical data, envelope kept", async () => {
    const u = await upstream({ auth: { username: "relay", password: "pw" } });
    const connect = createNodeConnect({ ca: [u.cert] });
    const r = await sendMessage(connect, target(u, { auth: { username: "relay", password: "pw" } }), message(), { ehloName: "relay.test" });
    expect(r.sessionFailure).toBeNull();
    expect(r.results.map((x) => x.outcome)).toEqual(["delivered", "delivered"]);
    expect(u.received).toHaveLength(1);
    const got = u.received[0]!;
    expect(got.secure).toBe(true);
    expect(got.user).toBe("relay");
    expect(got.mailFrom).toBe("a@example.com");
    expect(got.rcptTo).toEqual(["b@dest.test", "c@dest.test"]);
    expect(Buffer.compare(got.raw, Buffer.from(raw()))).toBe(0);
  });

  test("implicit TLS", async () => {
    const u = await upstream({ secure: true });
    const r = await sendMessage(createNodeConnect({ ca: [u.cert] }), target(u, { tls: "implicit" }), message(), { ehloName: "relay.test" });
    expect(r.results.every((x) => x.outcome === "delivered")).toBe(true);
    expect(u.received[0]!.secure).toBe(true);
  });

  test("refuses an untrusted certificate when verification is on", async () => {
    const u = await upstream();
    const r = await sendMessage(createNodeConnect(), target(u), message(), { ehloName: "relay.test" });
    expect(r.sessionFailure?.outcome).toBe("transient");
    expect(u.received).toHaveLength(0);
  });

  test("opportunistic TLS accepts any certificate (MX delivery)", async () => {
    const u = await upstream();
    const r = await sendMessage(createNodeConnect(), target(u, { tls: "starttls-opportunistic", verifyTls: false, relay: false }), message(), { ehloName: "relay.test" });
    expect(r.sessionFailure).toBeNull();
    expect(u.received[0]!.secure).toBe(true);
  });

  test("one reply per recipient: 550 for one, delivered for the other", async () => {
    const u = await upstream({ onRcpt: (a) => (a.startsWith("c@") ? { code: 550, message: "5.1.1 no such user" } : null) });
    const r = await sendMessage(createNodeConnect({ ca: [u.cert] }), target(u), message(), { ehloName: "relay.test" });
    expect(r.results.map((x) => [x.outcome, x.reply.code])).toEqual([["delivered", 250], ["permanent", 550]]);
    expect(u.received[0]!.rcptTo).toEqual(["b@dest.test"]);
  });

  test("a provider relay's auth failure is transient, never a bounce", async () => {
    const u = await upstream({ auth: { username: "relay", password: "pw" } });
    const r = await sendMessage(createNodeConnect({ ca: [u.cert] }), target(u, { auth: { username: "relay", password: "wrong" } }), message(), { ehloName: "relay.test" });
    expect(r.sessionFailure?.reply.code).toBe(535);
    expect(r.results.every((x) => x.outcome === "transient")).toBe(true);
  });

  test("no credentials over plaintext", async () => {
    const u = await upstream({ hideStartTls: true, auth: { username: "relay", password: "pw" } });
    const r = await sendMessage(createNodeConnect(), target(u, { tls: "starttls-opportunistic", auth: { username: "relay", password: "pw" } }), message(), { ehloName: "relay.test" });
    expect(r.sessionFailure?.reply.lines[0]).toContain("without TLS");
    expect(u.received).toHaveLength(0);
  });

  test("a 451 at end of data defers every recipient", async () => {
    const u = await upstream({ onData: () => ({ code: 451, message: "4.3.0 try later" }) });
    const r = await sendMessage(createNodeConnect({ ca: [u.cert] }), target(u), message(), { ehloName: "relay.test" });
    expect(r.results.map((x) => x.outcome)).toEqual(["transient", "transient"]);
  });

  test("a server that closes the connection is a transient failure, not a hang", async () => {
    const s = createServer((sock) => sock.end("220 hi\r\n"));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as { port: number }).port;
    const r = await sendMessage(createNodeConnect(), { hostname: "127.0.0.1", port, tls: "none", verifyTls: false, relay: false }, message(), { ehloName: "relay.test" });
    expect(r.sessionFailure?.outcome).toBe("transient");
    expect(r.sessionFailure?.reply.lines[0]).toContain("closed");
  });

  test("a server that never answers times out", async () => {
    const s = createServer(() => {});
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as { port: number }).port;
    const r = await sendMessage(createNodeConnect(), { hostname: "127.0.0.1", port, tls: "none", verifyTls: false, relay: false }, message(), {
      ehloName: "relay.test",
      timeouts: { greeting: 300 },
    });
    expect(r.sessionFailure?.reply.enhanced).toBe("4.4.2");
  });

  test("connection refused is transient", async () => {
    const r = await sendMessage(createNodeConnect(), { hostname: "127.0.0.1", port: 1, tls: "none", verifyTls: false, relay: false }, message(), { ehloName: "relay.test" });
    expect(r.sessionFailure?.outcome).toBe("transient");
  });

  test("SMTPUTF8 and 8BITMIME parameters when needed", async () => {
    const u = await upstream();
    const m = message({ smtputf8: true, recipients: [{ address: "χρήστης@dest.test" }], raw: new TextEncoder().encode("From: a@example.com\r\n\r\nγεια\r\n") });
    const r = await sendMessage(createNodeConnect({ ca: [u.cert] }), target(u), m, { ehloName: "relay.test" });
    expect(r.results[0]!.outcome).toBe("delivered");
    expect(u.received[0]!.mailParams).toMatchObject({ SMTPUTF8: true, BODY: "8BITMIME" });
  });
});
