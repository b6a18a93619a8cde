/**
 * What a relay session says about its route (route-verdict.ts), and the gate that feeds it
 * to the breaker and picks the probe (route-gate.ts) on a real libSQL file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RecipientResult } from "../../../src/core/delivery-result.ts";
import { RouteGate } from "../../../src/shaping/route-gate.ts";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import type { SqlDatabase } from "../../../src/db/raw.ts";
import { healthOf, routeFailed, type BreakerConfig } from "../../../src/shaping/route-health.ts";
import { RefusedRecipients, routeVerdict } from "../../../src/shaping/route-verdict.ts";
import { reply } from "../../../src/core/reply.ts";
import { removeDir } from "../../support/relay.ts";
import { openShapingDb, routeLabel, type ShapingDb } from "../../support/shaping.ts";

type Stage = NonNullable<RecipientResult["stage"]>;
const r = (address: string, outcome: RecipientResult["outcome"], scope: RecipientResult["scope"], stage: Stage, wire: [number, string, string]): RecipientResult => ({
  address,
  outcome,
  scope,
  stage,
  reply: reply(wire[0], wire[1], wire[2]),
});
const OK: [number, string, string] = [250, "2.0.0", "queued"];
const DENIED: [number, string, string] = [550, "5.7.1", "Access denied"];
const delivered = (a: string) => r(a, "delivered", "message", "end of DATA", OK);
const refusedAlone = (a: string) => r(a, "permanent", "recipient", "RCPT", DENIED);
const refusedAll = (a: string) => r(a, "transient", "route", "RCPT", DENIED);
const never = () => false;

describe("routeVerdict: route-level evidence only", () => {
  test("one recipient refused with 5.7.1 while the others are delivered: no failure", () => {
    expect(routeVerdict([delivered("a@d.test"), refusedAlone("x@d.test"), delivered("b@d.test")], never)).toEqual({ kind: "success" });
  });

  test("every recipient refused with 5.7.1 at RCPT: a failure, counted toward the threshold", () => {
    const v = routeVerdict([refusedAll("a@d.test"), refusedAll("b@d.test")], never);
    expect(v).toMatchObject({ kind: "failure", atOnce: false });
  });

  test("refused at MAIL: a failure, counted, not at once", () => {
    const mail = r("a@d.test", "transient", "route", "MAIL", DENIED);
    expect(routeVerdict([mail], never)).toMatchObject({ kind: "failure", atOnce: false });
  });

  test("bad credentials at AUTH: a failure that trips at once (RFC 4954 §6)", () => {
    const auth = r("a@d.test", "transient", "route", "AUTH", [535, "5.7.8", "Username and Password not accepted"]);
    expect(routeVerdict([auth], never)).toMatchObject({ kind: "failure", atOnce: true });
  });

  test("a connection refused: a failure, counted", () => {
    const conn = r("a@d.test", "transient", "route", "connect", [451, "4.4.1", "connection refused"]);
    expect(routeVerdict([conn], never)).toMatchObject({ kind: "failure", atOnce: false });
  });

  test("a 4xx to RCPT is the recipient's, never the route's", () => {
    const full = r("a@d.test", "transient", "recipient", "RCPT", [452, "4.2.2", "Mailbox full"]);
    expect(routeVerdict([full], never)).toEqual({ kind: "success" });
  });

  test("every recipient refused at RCPT, each an address the relay refused alone before: no evidence either way", () => {
    const before = (a: string) => a === "x@d.test";
    expect(routeVerdict([refusedAll("x@d.test")], before)).toEqual({ kind: "none" });
    expect(routeVerdict([refusedAll("x@d.test"), refusedAll("y@d.test")], before)).toMatchObject({ kind: "failure" });
    // At MAIL it is about the route whoever the recipients are.
    expect(routeVerdict([r("x@d.test", "transient", "route", "MAIL", DENIED)], before)).toMatchObject({ kind: "failure" });
  });
});

describe("RefusedRecipients", () => {
  test("remembers an address refused alone on a route, forgets it once delivered or after a while", () => {
    const m = new RefusedRecipients(1000, 10);
    m.note("R", [refusedAlone("X@d.test"), delivered("a@d.test")], 0);
    expect([m.has("R", "x@d.test", 10), m.has("R", "a@d.test", 10), m.has("other", "x@d.test", 10)]).toEqual([true, false, false]);
    expect(m.has("R", "x@d.test", 1000)).toBe(false);
    m.note("R", [delivered("x@d.test")], 20);
    expect(m.has("R", "x@d.test", 30)).toBe(false);
  });

  test("keeps at most its limit, dropping the oldest", () => {
    const m = new RefusedRecipients(1000, 2);
    for (const a of ["a", "b", "c"]) m.note("R", [refusedAlone(`${a}@d.test`)], 0);
    expect(["a", "b", "c"].map((a) => m.has("R", `${a}@d.test`, 1))).toEqual([false, true, true]);
  });
});

describe("RouteGate on libSQL", () => {
  let s: ShapingDb;
  let gate: RouteGate;
  const c: BreakerConfig = { threshold: 3, baseMs: 1000, maxMs: 5000, probeMs: 10_000 };
  beforeAll(async () => {
    s = await openShapingDb("gate.db");
    gate = new RouteGate({ sql: s.database.sql, writer: s.writer, log: (event, fields) => s.logged.push({ event, fields }), breaker: c });
  });
  afterAll(() => {
    s.database.close();
    removeDir(s.dir);
  });
  const health = async (route: string) => (await healthOf(s.database.sql, [route])).get(route);

  test("a route's quota is taken in one plan (one request to a remote server), and a spent one says until when", async () => {
    const counted = { transactions: 0, batches: 0 };
    const client = s.database.client;
    const counting: SqlDatabase = {
      execute: (stmt) => client.execute(stmt),
      transaction: async (mode) => (counted.transactions++, client.transaction(mode)),
      batch: async (stmts, mode) => (counted.batches++, client.batch(stmts, mode)),
    };
    const quoted = new RouteGate({ sql: s.database.sql, writer: new GroupCommit(counting), log: () => {}, breaker: c });
    const route = { label: routeLabel(2790), quota: { perSecond: null, perMinute: 2, perDay: null } };
    const now = 7 * 60_000 + 5_000;
    expect(await quoted.admit(route, now)).toMatchObject({ use: true });
    expect(await quoted.admit(route, now + 1)).toMatchObject({ use: true });
    expect(await quoted.admit(route, now + 2)).toEqual({ use: false, until: 8 * 60_000, reason: "route_quota" });
    expect(counted).toEqual({ transactions: 0, batches: 3 });
  });

  test("sessions refusing one recipient each, however many, leave the route up with no failure counted", async () => {
    const R = routeLabel(2701);
    for (let i = 0; i < 5; i++) await gate.observe({ label: R }, [delivered(`a${i}@d.test`), refusedAlone("x@d.test")], 1000 + i);
    expect(await health(R)).toBeUndefined();
    expect((await gate.admit({ label: R }, 2000, ["x@d.test"])).use).toBe(true);
  });

  test("an address refused alone, later the only recipient of its messages: its refusals are not held against the route", async () => {
    const R = routeLabel(2704);
    await gate.observe({ label: R }, [delivered("a@d.test"), refusedAlone("x@d.test")], 0);
    for (let i = 1; i <= 4; i++) await gate.observe({ label: R }, [refusedAll("x@d.test")], i);
    expect(await health(R)).toBeUndefined();
    // Another address refused the same way, alone, is still evidence: counted, not at once.
    await gate.observe({ label: R }, [refusedAll("y@d.test")], 5);
    expect(await health(R)).toMatchObject({ state: "up", failures: 1 });
  });

  test("route-level failures trip the breaker after the threshold, not on the first reply", async () => {
    const R = routeLabel(2702);
    const mail = (a: string) => r(a, "transient", "route", "MAIL", DENIED);
    await gate.observe({ label: R }, [mail("a@d.test")], 0);
    await gate.observe({ label: R }, [mail("b@d.test")], 1);
    expect((await health(R))?.state).toBe("up");
    await gate.observe({ label: R }, [mail("c@d.test")], 2);
    expect((await health(R))?.state).toBe("down");
  });

  test("a half-open route's probe never carries an address the relay refused alone", async () => {
    const R = routeLabel(2703);
    // A full mailbox (4xx to RCPT, the recipient's own) seen on this route, then the route goes down.
    await gate.observe({ label: R }, [r("full@d.test", "transient", "recipient", "RCPT", [452, "4.2.2", "Mailbox full"])], 0);
    await routeFailed(s.database.sql, R, "535 5.7.8 bad credentials", 10, c, true);
    const reopen = (await health(R))!.downUntil;
    // Only that recipient to carry: the probe is not taken, the route stays down for other mail.
    const alone = await gate.admit({ label: R }, reopen, ["full@d.test"]);
    expect(alone).toEqual({ use: false, until: reopen + 1000, reason: "route_down" });
    expect((await health(R))?.state).toBe("down");
    // With other recipients, they make the probe and it goes without the refused one.
    const mixed = await gate.admit({ label: R }, reopen, ["full@d.test", "ok@d.test"]);
    expect(mixed).toEqual({ use: true, probe: true, withhold: new Set(["full@d.test"]) });
    expect((await health(R))?.state).toBe("probing");
  });
});
