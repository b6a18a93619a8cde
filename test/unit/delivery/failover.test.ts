/**
 * The order of tries along routes and hosts (src/delivery/failover.ts), driven by hand:
 * a gate, a planner and a sender that answer from a script, no sockets or storage.
 */
import { describe, expect, test } from "bun:test";
import type { RecipientResult } from "../../../src/core/delivery-result.ts";
import type { Reply } from "../../../src/core/reply.ts";
import { tryRoutes, type FailoverDeps } from "../../../src/delivery/failover.ts";
import type { Route } from "../../../src/delivery/routing.ts";
import type { SessionResult } from "../../../src/delivery/smtp-client.ts";
import type { Target } from "../../../src/delivery/targets.ts";
import type { LeasedRecipient } from "../../../src/queue/lease.ts";
import type { Gate } from "../../../src/shaping/route-gate.ts";

const NOW = 1_000_000;
const rcpt = (id: number, address: string): LeasedRecipient => ({ id, message_id: "m", address, domain: "d.test", notify: null, orcpt: null, attempts: 0, waitedMs: 0 });
const host = (name: string): Target => ({ hostname: name, port: 25, tls: "starttls-opportunistic", verifyTls: false, relay: false });
const relay = (label: string): Route => ({ kind: "relay", label, target: { ...host(label), relay: true } });
const reply = (code: number, enhanced: string): Reply => ({ code, enhanced, lines: [`${code} ${enhanced} said`] });
const result = (address: string, outcome: RecipientResult["outcome"], r: Reply): RecipientResult => ({ address, outcome, reply: r });

/** A sender answering per host: "ok", "4xx", "5xx" for every recipient of the session. */
function scripted(answers: Record<string, "ok" | "4xx" | "5xx">, gates: Record<string, Gate> = {}) {
  const sent: string[] = [];
  const observed: string[] = [];
  const deps: FailoverDeps = {
    gate: {
      admit: async (route) => gates[route.label] ?? { use: true, probe: false, withhold: new Set() },
      observe: async (route) => void observed.push(route.label),
    },
    targetsFor: async (route) => (route.kind === "relay" ? [route.target] : [host("mx1.d.test"), host("mx2.d.test")]),
    send: async (target, message): Promise<SessionResult> => {
      sent.push(`${target.hostname}:${message.recipients.map((r) => r.address).join(",")}`);
      const a = answers[target.hostname] ?? "ok";
      const r = a === "ok" ? reply(250, "2.0.0") : a === "4xx" ? reply(451, "4.3.0") : reply(550, "5.1.1");
      return { sessionFailure: null, results: message.recipients.map((x) => result(x.address, a === "ok" ? "delivered" : a === "4xx" ? "transient" : "permanent", r)) };
    },
    now: () => NOW,
  };
  return { deps, sent, observed };
}

const message = { mailFrom: "s@example.com", raw: new Uint8Array([1]), smtputf8: false };
const outcomes = (final: Map<number, { outcome: string; via: string }>) => [...final].map(([id, a]) => [id, a.outcome, a.via]);

describe("tryRoutes", () => {
  test("MX: a 4xx on the first host tries the next host (RFC 5321 §5.1)", async () => {
    const s = scripted({ "mx1.d.test": "4xx", "mx2.d.test": "ok" });
    const r = await tryRoutes(s.deps, { routes: [], domain: "d.test", recipients: [rcpt(1, "a@d.test")], message });
    expect(s.sent).toEqual(["mx1.d.test:a@d.test", "mx2.d.test:a@d.test"]);
    expect(outcomes(r.final)).toEqual([[1, "delivered", "mx mx2.d.test [mx2.d.test]"]]);
    expect(r.wait).toBeNull();
  });

  test("MX: a 5xx is final; the next host is not tried", async () => {
    const s = scripted({ "mx1.d.test": "5xx" });
    const r = await tryRoutes(s.deps, { routes: [], domain: "d.test", recipients: [rcpt(1, "a@d.test")], message });
    expect(s.sent).toEqual(["mx1.d.test:a@d.test"]);
    expect(outcomes(r.final)).toEqual([[1, "permanent", "mx mx1.d.test [mx1.d.test]"]]);
  });

  test("relay routes in order: a route that is down is skipped, the next carries the mail, the soonest reopening kept", async () => {
    const s = scripted({}, { "smtp://a.test": { use: false, until: NOW + 30_000, reason: "route_down" } });
    const r = await tryRoutes(s.deps, { routes: [relay("smtp://a.test"), relay("smtp://b.test")], domain: "d.test", recipients: [rcpt(1, "a@d.test"), rcpt(2, "b@d.test")], message });
    expect(s.sent).toEqual(["smtp://b.test:a@d.test,b@d.test"]);
    expect(s.observed).toEqual(["smtp://b.test"]);
    expect(outcomes(r.final)).toEqual([[1, "delivered", "smtp://b.test"], [2, "delivered", "smtp://b.test"]]);
    expect(r.wait).toEqual({ until: NOW + 30_000, reason: "route_down", route: "smtp://a.test" });
  });

  test("every route down: nothing tried, the untried wait for the soonest one", async () => {
    const s = scripted({}, { "smtp://a.test": { use: false, until: NOW + 60_000, reason: "route_down" }, "smtp://b.test": { use: false, until: NOW + 5_000, reason: "route_quota" } });
    const r = await tryRoutes(s.deps, { routes: [relay("smtp://a.test"), relay("smtp://b.test")], domain: "d.test", recipients: [rcpt(1, "a@d.test")], message });
    expect(s.sent).toEqual([]);
    expect(r.final.size).toBe(0);
    expect(r.wait).toEqual({ until: NOW + 5_000, reason: "route_quota", route: "smtp://b.test" });
  });

  test("a recipient kept out of a half-open route's probe is not sent there, and waits for the probe's answer", async () => {
    const s = scripted({}, { "smtp://a.test": { use: true, probe: true, withhold: new Set(["refused@d.test"]) } });
    const r = await tryRoutes(s.deps, { routes: [relay("smtp://a.test")], domain: "d.test", recipients: [rcpt(1, "ok@d.test"), rcpt(2, "refused@d.test")], message });
    expect(s.sent).toEqual(["smtp://a.test:ok@d.test"]);
    expect(outcomes(r.final)).toEqual([[1, "delivered", "smtp://a.test"]]);
    expect(r.wait?.reason).toBe("route_down");
  });

  test("a transient answer on the first relay route goes on to the next route", async () => {
    const s = scripted({ "smtp://a.test": "4xx" });
    const r = await tryRoutes(s.deps, { routes: [relay("smtp://a.test"), relay("smtp://b.test")], domain: "d.test", recipients: [rcpt(1, "a@d.test")], message });
    expect(s.sent).toEqual(["smtp://a.test:a@d.test", "smtp://b.test:a@d.test"]);
    expect(outcomes(r.final)).toEqual([[1, "delivered", "smtp://b.test"]]);
  });

  test("with VERP every recipient has its own transaction and envelope sender", async () => {
    const s = scripted({});
    const senders: string[] = [];
    const send = s.deps.send;
    s.deps.send = async (t, m) => (senders.push(m.mailFrom), send(t, m));
    s.deps.verp = async (id) => `b-${id}@bounces.example.com`;
    await tryRoutes(s.deps, { routes: [], domain: "d.test", recipients: [rcpt(1, "a@d.test"), rcpt(2, "b@d.test")], message });
    expect(s.sent).toEqual(["mx1.d.test:a@d.test", "mx1.d.test:b@d.test"]);
    expect(senders).toEqual(["b-1@bounces.example.com", "b-2@bounces.example.com"]);
  });
});
