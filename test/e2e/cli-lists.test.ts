/**
 * Every list the CLI prints, on a running relay with something in each: an aligned table
 * under a header (each cell starts where its column's name does), `--json` one array
 * that parses, and no secret in either. The queue holds a recipient the upstream deferred
 * (451) and one held over the account's daily limit, and says so.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addTenant, cli, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { postMessage } from "../support/api.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const ROUTE_PASSWORD = "route-pass-0123456789";
let dir = "";
let relay: Relay;
let upstream: Upstream;
let tenant: Tenant;
let webhookSecret = "";
let deferredId = "";
let heldId = "";

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({ onRcpt: (a) => (a.startsWith("later@") ? { code: 451, message: "4.3.0 try again later" } : null) });
  // One message a day, the rest held: the second message waits as held (over_quota).
  tenant = await addTenant(dir, { limits: ["--per-day", "1"] });
  await cliOk(dir, ["account", "update", "acme", "--over-limit", "hold"]);
  await cliOk(dir, ["network", "allow", "acme", "192.0.2.0/24"]);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`]);
  // Listed, never used: a provider relay's password is masked in the list.
  await cliOk(dir, ["route", "add", "example.net", `smtp://relay:${ROUTE_PASSWORD}@relay.example.net:587`]);
  await cliOk(dir, ["shape", "add", "dest.test", "--connections", "2"]);
  await cliOk(dir, ["suppression", "add", "acme", "gone@dest.test"]);
  webhookSecret = await cliOk(dir, ["webhook", "add", "acme", "https://hooks.example.com/smarthost", "--events", "message.delivered,message.bounced"]);
  await cliOk(dir, ["dkim", "add", "example.com", "--selector", "s1", "--algorithm", "ed25519"]);
  await cliOk(dir, ["domain", "return-path", "example.com", "rp.example.com"]);
  relay = await startRelay(dir, { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "3600" });
  const send = async (to: string) => {
    const res = await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: [to], subject: "list", text: "x" });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  deferredId = await send("later@dest.test");
  heldId = await send("held@dest.test");
  await waitFor("the 451 from the upstream", async () => {
    const res = await fetch(`${relay.http}/v1/messages/${deferredId}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    return ((await res.json()) as { recipients: { state: string }[] }).recipients[0]?.state === "deferred" || undefined;
  }, 60_000);
}, 180_000);

afterAll(async () => {
  await relay?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

/**
 * The cells of a table under `headers`: the header line is exactly those names, two spaces
 * or more apart, and every row's cells start at the column where the header's name starts.
 */
function tableCells(lines: string[], headers: string[]): string[][] {
  const [header, ...rows] = lines;
  expect(header!.split(/ {2,}/)).toEqual(headers);
  const starts: number[] = [];
  for (const h of headers) starts.push(header!.indexOf(h, starts.length ? starts.at(-1)! + 1 : 0));
  expect(rows.length).toBeGreaterThan(0);
  return rows.map((row) => {
    for (const s of starts.slice(1)) {
      // Two spaces end the column before; the cell itself begins right at the column.
      expect([row, s, row.slice(s - 2, s)]).toEqual([row, s, "  "]);
      expect([row, s, row[s] === " "]).toEqual([row, s, false]);
    }
    return starts.map((s, i) => row.slice(s, starts[i + 1]).trim());
  });
}

/** Every secret the setup made: the password, the API key, the route's password, the webhook's signing secret. */
function secrets(): string[] {
  const all = [tenant.password, tenant.apiKey, tenant.apiKey.slice("sh_12345678_".length), ROUTE_PASSWORD, webhookSecret, webhookSecret.slice("whsec_".length)];
  for (const s of all) expect(s.length).toBeGreaterThan(8);
  return all;
}

/** A list as text and as --json: both succeed, the JSON is one array, and neither shows a secret. */
async function listed(args: string[]): Promise<{ text: string[]; json: Record<string, unknown>[] }> {
  const text = await cli(dir, args);
  expect([args, text.code, text.stderr]).toEqual([args, 0, ""]);
  const json = await cli(dir, [...args, "--json"]);
  expect([args, json.code]).toEqual([args, 0]);
  const parsed = JSON.parse(json.stdout) as unknown;
  expect(Array.isArray(parsed)).toBe(true);
  for (const secret of secrets()) expect(text.stdout + json.stdout).not.toContain(secret);
  return { text: text.stdout.trimEnd().split("\n"), json: parsed as Record<string, unknown>[] };
}

describe("every list is a table with a header, and --json an array", () => {
  const cases: [string[], string[], (json: Record<string, unknown>[], cells: string[][]) => void][] = [
    [["account", "list"], ["NAME", "PER_MINUTE", "PER_DAY", "RECIPIENTS_PER_DAY", "CREATED_AT", "OVER_LIMIT", "HOLD_BACKLOG", "LIST_UNSUBSCRIBE", "REQUIRE_ALIGNMENT"], (j, c) => {
      expect(j[0]).toMatchObject({ name: "acme", per_day: 1, over_limit: "hold" });
      expect(c[0]!.slice(0, 3)).toEqual(["acme", "-", "1"]);
    }],
    [["credential", "list"], ["USERNAME", "ACCOUNT", "CREATED_AT"], (j, c) => {
      expect(Object.keys(j[0]!).sort()).toEqual(["account", "created_at", "username"]);
      expect(c[0]!.slice(0, 2)).toEqual(["alice", "acme"]);
    }],
    [["key", "list"], ["ID", "ACCOUNT", "CREATED_AT", "LAST_USED_AT", "REVOKED_AT"], (j, c) => {
      expect(tenant.apiKey).toStartWith(`sh_${j[0]!.id}_`);
      expect(c[0]![0]).toBe(j[0]!.id as string);
    }],
    [["sender", "list"], ["ACCOUNT", "PATTERN"], (j, c) => {
      expect(j).toEqual([{ account: "acme", pattern: "example.com" }]);
      expect(c).toEqual([["acme", "example.com"]]);
    }],
    [["network", "list"], ["ACCOUNT", "CIDR"], (j, c) => {
      expect(j).toEqual([{ account: "acme", cidr: "192.0.2.0/24" }]);
      expect(c).toEqual([["acme", "192.0.2.0/24"]]);
    }],
    [["route", "list"], ["DOMAIN", "POSITION", "URL", "PER_SECOND", "PER_MINUTE", "PER_DAY", "HEALTH", "DOWN_UNTIL"], (j, c) => {
      expect(j.map((r) => [r.domain, r.url]).sort()).toEqual([["*", `smtp://127.0.0.1:${upstream.port}?tls=none`], ["example.net", "smtp://***@relay.example.net:587"]]);
      expect(c.map((r) => r.slice(0, 3)).sort()).toEqual([["*", "0", `smtp://127.0.0.1:${upstream.port}?tls=none`], ["example.net", "0", "smtp://***@relay.example.net:587"]]);
    }],
    [["shape", "list"], ["PATTERN", "CONNECTIONS", "PER_MINUTE", "RATE_NOW", "SOURCE"], (j, c) => {
      expect(j[0]).toMatchObject({ pattern: "dest.test", connections: 2, source: "operator" });
      expect(c[0]).toEqual(["dest.test", "2", "-", "-", "operator"]);
    }],
    [["suppression", "list"], ["ACCOUNT", "ADDRESS", "REASON", "SINCE", "UNTIL", "MESSAGE"], (j, c) => {
      expect(j).toEqual([{ account: "acme", address: "gone@dest.test", reason: "manual", message_id: null, created_at: expect.any(String), expires_at: null }]);
      expect(c).toEqual([["acme", "gone@dest.test", "manual", j[0]!.created_at as string, "no expiry", "-"]]);
    }],
    [["webhook", "list"], ["ID", "ACCOUNT", "STATE", "EVENTS", "CREATED_AT", "URL"], (j, c) => {
      expect(j[0]).toMatchObject({ account: "acme", url: "https://hooks.example.com/smarthost", events: ["message.delivered", "message.bounced"], enabled: true });
      expect(c[0]).toEqual([j[0]!.id as string, "acme", "enabled", "message.delivered,message.bounced", j[0]!.created_at as string, "https://hooks.example.com/smarthost"]);
    }],
    [["dkim", "list"], ["DOMAIN", "SELECTOR", "ALGORITHM", "STATE", "SINCE", "RECORD"], (j, c) => {
      expect(j[0]).toMatchObject({ domain: "example.com", selector: "s1", algorithm: "ed25519", state: "active" });
      expect(c[0]!.slice(0, 4)).toEqual(["example.com", "s1", "ed25519", "active"]);
      expect(c[0]![5]).toStartWith('s1._domainkey.example.com IN TXT "v=DKIM1; k=ed25519; p=');
    }],
    [["domain", "return-path", "list"], ["DOMAIN", "RETURN_DOMAIN", "MX", "CREATED_AT"], (j, c) => {
      expect(j[0]).toMatchObject({ domain: "example.com", return_domain: "rp.example.com" });
      expect(c[0]!.slice(0, 3)).toEqual(["example.com", "rp.example.com", "rp.example.com. IN MX 10 relay.test."]);
    }],
  ];
  test("account, credential, key, sender, network, route, shape, suppression, webhook, dkim and return-path lists", async () => {
    for (const [args, headers, check] of cases) {
      const { text, json } = await listed(args);
      check(json, tableCells(text, headers));
    }
  }, 120_000);
});

describe("the queue", () => {
  test("says deferred and held for what is deferred or held, in the rows and the count", async () => {
    const { text, json } = await listed(["queue"]);
    expect(json.map((r) => [r.id, r.state]).sort()).toEqual([[deferredId, "deferred"], [heldId, "held"]].sort());
    // The rows, then one line counting each state under its own name.
    expect(text.at(-1)).toBe("2 recipients waiting: 1 deferred, 1 held");
    const cells = tableCells(text.slice(0, -1), ["ID", "STATE", "ATTEMPTS", "NEXT_ATTEMPT", "ACCOUNT", "FROM", "RECIPIENT", "LAST_REPLY"]);
    const row = (id: string) => cells.find((c) => c[0] === id)!;
    expect(row(deferredId).slice(0, 3)).toEqual([deferredId, "deferred", "1"]);
    expect(row(deferredId)[3]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(row(deferredId).slice(4, 7)).toEqual(["acme", "alice@example.com", "later@dest.test"]);
    expect(row(deferredId)[7]).toContain("451 4.3.0 try again later");
    expect(row(heldId).slice(0, 4)).toEqual([heldId, "held", "0", "on release"]);
    expect(text.join("\n")).not.toMatch(/\bqueued\b/);
    // A filter that matches nothing, and an empty queue, say so in words.
    expect((await cli(dir, ["queue", "--state", "queued"])).stdout).toBe("queue is empty\n");
    expect((await cli(dir, ["queue", "--state", "queued", "--json"])).stdout).toBe("[]\n");
  });
});
