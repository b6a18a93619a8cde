/**
 * Operating a running relay from the command line (another process, same database):
 * revoking a key, rotating a password, and steering the queue — hold/release, retry,
 * delete with a DSN, bulk actions by filter — against a real smtp-server upstream.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addTenant, cli, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { smtplibLogin } from "../support/python.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const DEFER = { code: 451, message: "4.3.0 try again later" };

let dir: string;
let relay: Relay;
let tenant: Tenant;
let upstream: Upstream;
/** Recipients the upstream defers once (451 at RCPT), then accepts. */
const deferOnce = new Set<string>();

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({ onRcpt: (address) => (deferOnce.delete(address) ? DEFER : null) });
  tenant = await addTenant(dir);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`]);
  // A deferred recipient would wait an hour: only an operator's action delivers it sooner.
  relay = await startRelay(dir, { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "3600" });
});
afterAll(async () => {
  await relay?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

/** Messages (not DSNs, which quote the headers) that reached the upstream with this subject. */
const arrived = (subject: string) => upstream.received.filter((r) => r.mailFrom !== "" && r.raw.toString("utf8").includes(`Subject: ${subject}\r\n`));

async function submit(subject: string, to: string[] = ["bob@dest.test"], key = tenant.apiKey): Promise<Response> {
  return fetch(`${relay.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}` },
    body: JSON.stringify({ from: "alice@example.com", to, subject, text: "hello" }),
  });
}

async function submitted(subject: string, to?: string[]): Promise<string> {
  const res = await submit(subject, to);
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function states(id: string): Promise<string[]> {
  const db = openDb(relay.dbUrl);
  try {
    return (await db.execute({ sql: "SELECT state FROM recipients WHERE message_id = ? ORDER BY id", args: [id] })).rows.map((r) => r.state as string);
  } finally {
    db.close();
  }
}

/** A message the upstream has deferred once (its next attempt an hour away). */
async function deferred(subject: string, to = [`${subject.replace(/\W+/g, "-")}@dest.test`]): Promise<string> {
  for (const a of to) deferOnce.add(a);
  const id = await submitted(subject, to);
  await waitFor(`${subject} deferred`, async () => (await states(id)).every((s) => s === "deferred"));
  return id;
}

const login = (user: string, password: string) => smtplibLogin(relay.smtpPort, user, password);

describe("credentials and keys", () => {
  test("a revoked key gets 401 on the very next request; last use is listed", async () => {
    const key = await cliOk(dir, ["key", "add", tenant.account]);
    const id = /^sh_([A-Za-z0-9]{8})_/.exec(key)![1]!;
    expect((await submit("before revoke", undefined, key)).status).toBe(202);
    const used = await waitFor("last use recorded", async () => {
      const keys = JSON.parse(await cliOk(dir, ["key", "list", "--json"])) as { id: string; last_used_at: string | null }[];
      return keys.find((k) => k.id === id)?.last_used_at ?? undefined;
    });
    expect(Date.parse(used)).toBeGreaterThan(Date.now() - 60_000);
    expect(await cliOk(dir, ["key", "revoke", id])).toBe(`API key ${id} of account acme revoked`);
    const next = await submit("after revoke", undefined, key);
    expect(next.status).toBe(401);
    expect(await next.json()).toEqual({ error: { code: "unauthenticated", message: "Invalid API key" } });
    // The tenant's other key is untouched.
    expect((await submit("other key")).status).toBe(202);
  });

  test("a rotated password: the old one gets 535, the new one 235", async () => {
    expect(await login(tenant.username, tenant.password)).toBe(235);
    const fresh = await cliOk(dir, ["credential", "rotate", tenant.username]);
    expect(await login(tenant.username, tenant.password)).toBe(535);
    expect(await login(tenant.username, fresh)).toBe(235);
  });
});

describe("the queue", () => {
  test("a held message is not delivered, even when due, until released", async () => {
    const id = await deferred("held one");
    expect(await cliOk(dir, ["queue", "hold", id])).toBe("hold: 1 message(s), 1 recipient(s)");
    const listed = JSON.parse(await cliOk(dir, ["queue", "--state", "held", "--json"])) as { id: string; state: string }[];
    expect(listed).toEqual([expect.objectContaining({ id, state: "held" })]);
    // Make it due, then let the worker lease: another message delivered after proves a lease ran.
    const db = openDb(relay.dbUrl);
    await db.execute({ sql: "UPDATE recipients SET next_attempt_at = 0 WHERE message_id = ?", args: [id] });
    db.close();
    await submitted("while held");
    await waitFor("the other message", () => arrived("while held").length === 1);
    expect(arrived("held one")).toHaveLength(0);
    expect(await states(id)).toEqual(["held"]);
    expect(await cliOk(dir, ["queue", "release", id])).toBe("release: 1 message(s), 1 recipient(s)");
    await waitFor("delivery after release", () => arrived("held one").length === 1);
    const trace = (await cli(dir, ["queue", "show", id])).stdout;
    expect(trace).toMatch(/held +<held-one@dest\.test>  held by the operator/);
    expect(trace).toMatch(/released +<held-one@dest\.test>  released by the operator/);
    expect(trace).toContain("451 4.3.0 try again later");
  });

  test("retry of a deferred message delivers it at once", async () => {
    const id = await deferred("retry me");
    const before = JSON.parse(await cliOk(dir, ["queue", "show", id, "--json"])) as { recipients: { next_attempt_at: string }[] };
    expect(Date.parse(before.recipients[0]!.next_attempt_at)).toBeGreaterThan(Date.now() + 3_000_000);
    expect(await cliOk(dir, ["queue", "retry", id])).toBe("retry: 1 message(s), 1 recipient(s)");
    await waitFor("delivery after retry", () => arrived("retry me").length === 1, 10_000);
    expect(await waitFor("delivered", async () => (await states(id))[0] === "delivered")).toBe(true);
  });

  test("retry --all makes every deferred recipient due now", async () => {
    await deferred("all one");
    await deferred("all two");
    expect(await cliOk(dir, ["queue", "retry", "--all"])).toBe("retry: 2 message(s), 2 recipient(s)");
    await waitFor("both delivered", () => arrived("all one").length === 1 && arrived("all two").length === 1, 10_000);
  });

  test("delete --bounce removes the message and sends one DSN", async () => {
    const id = await deferred("delete me", ["one@dest.test", "two@dest.test"]);
    expect(await cliOk(dir, ["queue", "delete", id, "--bounce"])).toBe("delete: 1 message(s), 2 recipient(s); 1 DSN(s) queued");
    expect(await states(id)).toEqual(["deleted", "deleted"]);
    const dsn = await waitFor("the DSN", () => upstream.received.find((r) => r.mailFrom === "" && r.rcptTo[0] === "alice@example.com"));
    const text = dsn.raw.toString("utf8");
    expect(text).toContain("Content-Type: multipart/report; report-type=delivery-status");
    expect(text).toContain("Final-Recipient: rfc822; one@dest.test");
    expect(text).toContain("Final-Recipient: rfc822; two@dest.test");
    expect(text).toContain("Removed from the queue by the postmaster");
    const db = openDb(relay.dbUrl);
    const dsns = (await db.execute("SELECT count(*) AS n FROM messages WHERE source = 'dsn'")).rows[0]!.n;
    const evs = (await db.execute({ sql: "SELECT type FROM events WHERE message_id = ?", args: [id] })).rows.map((r) => r.type);
    db.close();
    expect(Number(dsns)).toBe(1);
    expect(evs.filter((t) => t === "deleted")).toHaveLength(2);
    expect(arrived("delete me")).toHaveLength(0);
    // A deleted message is no longer in the queue, and acting on it again changes nothing.
    expect((await cliOk(dir, ["queue", "delete", id]))).toBe("delete: 0 message(s), 0 recipient(s)");
  });

  test("bulk actions by filter print the count first and act only with --yes", async () => {
    const a = await deferred("bulk a", ["x@bulk.test"]);
    const b = await deferred("bulk b", ["y@bulk.test"]);
    expect(await cliOk(dir, ["queue", "hold", "--domain", "bulk.test"])).toBe("2 message(s), 2 recipient(s) match; add --yes to hold them");
    expect([...(await states(a)), ...(await states(b))]).toEqual(["deferred", "deferred"]);
    expect(await cliOk(dir, ["queue", "hold", "--domain", "bulk.test", "--yes"])).toBe("hold: 2 message(s), 2 recipient(s)");
    expect(await cliOk(dir, ["queue", "release", "--account", "acme", "--state", "held", "--yes"])).toBe("release: 2 message(s), 2 recipient(s)");
    await waitFor("both delivered", () => arrived("bulk a").length === 1 && arrived("bulk b").length === 1);
    expect((await cli(dir, ["queue", "hold", "--state", "bounced"])).stderr).toBe("error: --state must be one of queued, deferred, held\n");
    expect((await cli(dir, ["queue", "hold"])).stderr).toBe("error: give a message ID or a filter (--account, --domain, --state)\n");
    expect((await cli(dir, ["queue", "show", "nope"])).stderr).toBe('error: no message with id "nope"\n');
  });
});

describe("routes", () => {
  let d2: string;
  let r2: Relay;
  let primary: Upstream;
  let failing: Upstream;
  beforeAll(async () => {
    d2 = tempDir();
    primary = await startUpstream();
    failing = await startUpstream({ auth: { username: "user", password: "p@ss" }, onData: () => DEFER, extra: { allowInsecureAuth: true } });
    await addTenant(d2);
    await cliOk(d2, ["route", "add", "*", `smtp://127.0.0.1:${primary.port}?tls=none`]);
    await cliOk(d2, ["route", "add", "dest.test", `smtp://user:p@ss@127.0.0.1:${failing.port}?tls=none&insecure_auth=true`]);
    r2 = await startRelay(d2, { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "1" });
  });
  afterAll(async () => {
    await r2?.stop();
    await primary?.close();
    await failing?.close();
    if (d2) removeDir(d2);
  });

  test("a removed route stops being used", async () => {
    const key = (await addTenant(d2, { account: "other", username: "o" })).apiKey;
    const send = (subject: string) =>
      fetch(`${r2.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ from: "o@example.com", to: ["x@dest.test"], subject, text: "hi" }) });
    expect((await send("route one")).status).toBe(202);
    await waitFor("the failing route tried", () => failing.attempts >= 1);
    const listed = JSON.parse(await cliOk(d2, ["route", "list", "--json"])) as { domain: string; url: string }[];
    const masked = listed.find((r) => r.domain === "dest.test")!.url;
    expect(masked).toBe(`smtp://***@127.0.0.1:${failing.port}?tls=none&insecure_auth=true`);
    const removed = await cli(d2, ["route", "remove", "dest.test", masked]);
    expect(removed.stdout).toBe(`route dest.test -> ${masked} removed\n1 queued recipient(s) it served now go by * -> smtp://127.0.0.1:${primary.port}?tls=none\n`);
    // The deferred message is retried by backoff and now goes by "*" (routes are re-read every few seconds).
    await waitFor("delivery by the remaining route", () => primary.received.length === 1);
    const triedBefore = failing.attempts;
    expect((await send("route two")).status).toBe(202);
    await waitFor("second delivery", () => primary.received.length === 2);
    expect(failing.attempts).toBe(triedBefore);
  });
});
