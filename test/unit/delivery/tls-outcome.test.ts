/**
 * The TLS outcome the SMTP client reports for a session (against smtp-server with real
 * TLS on loopback), and the rules that turn it into what is stored.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { sendMessage, type SmtpTarget } from "../../../src/delivery/smtp-client.ts";
import type { OutboundMessage } from "../../../src/delivery/smtp-transaction.ts";
import { certificateResultType, tlsRecord, type SessionTls } from "../../../src/delivery/tls-outcome.ts";
import { createNodeConnect } from "../../../src/runtime/node-socket.ts";
import { startUpstream, type Upstream } from "../../support/upstream.ts";

const ups: Upstream[] = [];
afterEach(async () => {
  for (const u of ups.splice(0)) await u.close();
});

async function upstream(opts: Parameters<typeof startUpstream>[0] = {}) {
  const u = await startUpstream(opts);
  ups.push(u);
  return u;
}

const message: OutboundMessage = { mailFrom: "a@example.com", recipients: [{ address: "b@dest.test" }], raw: new TextEncoder().encode("Subject: t\r\n\r\nhi\r\n"), smtputf8: false };
const target = (u: Upstream, over: Partial<SmtpTarget>): SmtpTarget => ({ hostname: "127.0.0.1", port: u.port, tls: "starttls-required", verifyTls: true, relay: false, ...over });
const opts = { ehloName: "relay.test" };

describe("the session's TLS, as the client saw it", () => {
  test("STARTTLS verified: level, protocol and cipher", async () => {
    const u = await upstream();
    const r = await sendMessage(createNodeConnect({ ca: [u.cert] }), target(u, {}), message, opts);
    expect(r.results[0]!.outcome).toBe("delivered");
    expect(r.tls).toEqual({ level: "verified", protocol: "TLSv1.3", cipher: expect.stringMatching(/^TLS_/), resultType: null });
  });

  test("implicit TLS: the handshake's protocol too", async () => {
    const u = await upstream({ secure: true });
    const r = await sendMessage(createNodeConnect({ ca: [u.cert] }), target(u, { tls: "implicit" }), message, opts);
    expect(r.tls).toMatchObject({ level: "verified", protocol: "TLSv1.3", resultType: null });
  });

  test("opportunistic with a certificate nobody vouches for: encrypted, and what a check would have said", async () => {
    const u = await upstream();
    const r = await sendMessage(createNodeConnect(), target(u, { tls: "starttls-opportunistic", verifyTls: false }), message, opts);
    expect(r.results[0]!.outcome).toBe("delivered");
    expect(r.tls).toEqual({ level: "opportunistic", protocol: "TLSv1.3", cipher: expect.stringMatching(/^TLS_/), resultType: "certificate-not-trusted", detail: "DEPTH_ZERO_SELF_SIGNED_CERT" });
  });

  test("a certificate that fails verification: a STARTTLS-stage 4.7.5 failure with its type, not a connection error", async () => {
    const u = await upstream();
    const r = await sendMessage(createNodeConnect(), target(u, { tlsName: "localhost" }), message, opts);
    expect(r.sessionFailure).toMatchObject({ outcome: "transient", stage: "STARTTLS", reply: { code: 451, enhanced: "4.7.5" } });
    expect(r.sessionFailure!.reply.lines[0]).toStartWith("TLS with localhost failed (certificate-not-trusted): ");
    expect(r.tls).toMatchObject({ level: "none", resultType: "certificate-not-trusted" });
    expect(u.received).toHaveLength(0);
  });

  test("no STARTTLS offered: plaintext when allowed, and starttls-not-supported either way", async () => {
    const u = await upstream({ hideStartTls: true });
    const plain = await sendMessage(createNodeConnect(), target(u, { tls: "starttls-opportunistic", verifyTls: false }), message, opts);
    expect(plain.results[0]!.outcome).toBe("delivered");
    expect(plain.tls).toEqual({ level: "none", protocol: null, cipher: null, resultType: "starttls-not-supported" });
    const required = await sendMessage(createNodeConnect(), target(u, {}), message, opts);
    expect(required.sessionFailure).toMatchObject({ stage: "STARTTLS", reply: { code: 451, enhanced: "4.7.5" } });
    expect(required.tls?.resultType).toBe("starttls-not-supported");
  });
});

describe("RFC 8460 result types and what is kept", () => {
  test("certificate errors by their codes and words", () => {
    expect(certificateResultType(Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" }))).toBe("certificate-host-mismatch");
    expect(certificateResultType("CERT_HAS_EXPIRED")).toBe("certificate-expired");
    expect(certificateResultType("UNABLE_TO_VERIFY_LEAF_SIGNATURE")).toBe("certificate-not-trusted");
    expect(certificateResultType(new Error("socket hang up"))).toBe("validation-failure");
  });

  test("a failure is kept only where TLS was demanded; a policy fetch failure fills in", () => {
    const s: SessionTls = { level: "opportunistic", protocol: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", resultType: "certificate-not-trusted" };
    expect(tlsRecord(s, { policy: null, required: false })).toEqual({ outcome: "opportunistic", protocol: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", result_type: null, policy: null });
    expect(tlsRecord(s, { policy: "testing", required: false })?.result_type).toBe("certificate-not-trusted");
    expect(tlsRecord(s, { policy: null, required: true })?.result_type).toBe("certificate-not-trusted");
    expect(tlsRecord({ ...s, resultType: null }, { policy: null, required: false, policyFailure: "sts-policy-fetch-error" })?.result_type).toBe("sts-policy-fetch-error");
    expect(tlsRecord(undefined, { policy: "enforce", required: true })).toBeUndefined();
  });
});
