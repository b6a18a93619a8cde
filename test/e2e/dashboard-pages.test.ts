/**
 * The dashboard's other pages and actions over HTTP on a running relay (the browser tests
 * are in dashboard.test.ts): suppressions removed, a webhook delivery replayed, DKIM records
 * shown, hold/release/delete on a message, the search filters, a route taken down by its
 * upstream, mail held over quota, and each delivery's TLS outcome.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { addTenant, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const TOKEN = "admin-token-for-dashboard-pages-0123456789";
const HOOK_ENV = { SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true" };
let dir: string;
let relay: Relay;
let upstream: Upstream;
// Refuses our account at MAIL (x.7.y): the breaker takes its route down after a run of them.
let throttled: Upstream;
// Offers STARTTLS with a self-signed certificate.
let tlsUpstream: Upstream;
// The same, for the route that verifies it: the failed check counts against that route's
// health (by host and port), which must not take tls.test's route down with it.
let checkedUpstream: Upstream;
let receiver: Receiver;
let tenant: Tenant;
// One message a day, the rest held over quota.
let burst: Tenant;
// The only account with a webhook endpoint: its deliveries are the webhook test's alone.
let hooked: Tenant;
let webhookId: string;
const deferOnce = new Set<string>();
const deferAlways = new Set<string>();

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({ onRcpt: (a) => (deferAlways.has(a) || deferOnce.delete(a) ? { code: 451, message: "4.2.1 greylisted" } : null) });
  receiver = startReceiver();
  tenant = await addTenant(dir);
  burst = await addTenant(dir, { account: "burst", username: "bob" });
  hooked = await addTenant(dir, { account: "hooked", username: "hank" });
  await cliOk(dir, ["account", "update", "burst", "--per-day", "1", "--over-limit", "hold"]);
  throttled = await startUpstream({ extra: { closeTimeout: 50, onMailFrom: (_a, _s, cb) => cb(Object.assign(new Error("4.7.0 Throttling failure: Maximum sending rate exceeded"), { responseCode: 454 })) } });
  tlsUpstream = await startUpstream({ extra: { closeTimeout: 50 } });
  checkedUpstream = await startUpstream({ extra: { closeTimeout: 50 } });
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`]);
  await cliOk(dir, ["route", "add", "down.test", `smtp://127.0.0.1:${throttled.port}?tls=none`]);
  await cliOk(dir, ["route", "add", "tls.test", `smtp://127.0.0.1:${tlsUpstream.port}?tls_verify=false`, "--per-minute", "600", "--per-day", "50000"]);
  await cliOk(dir, ["route", "add", "tlscheck.test", `smtp://127.0.0.1:${checkedUpstream.port}`]);
  await cliOk(dir, ["suppression", "add", "acme", "blocked@dest.test"]);
  await cliOk(dir, ["dkim", "add", "example.com", "--selector", "dash"]);
  await cliOk(dir, ["webhook", "add", "hooked", receiver.url, "--events", "message.delivered"], HOOK_ENV);
  webhookId = (JSON.parse(await cliOk(dir, ["webhook", "list", "--json"], HOOK_ENV)) as { id: string }[])[0]!.id;
  relay = await startRelay(dir, { ...HOOK_ENV, SMARTHOST_ADMIN_TOKEN: TOKEN, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "3600" });
});
afterAll(async () => {
  await relay?.stop();
  await receiver?.stop();
  await upstream?.close();
  await throttled?.close();
  await tlsUpstream?.close();
  await checkedUpstream?.close();
  if (dir) removeDir(dir);
});

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

let cookie = "";
async function page(path: string): Promise<string> {
  if (!cookie) {
    const login = await fetch(`${relay.http}/dashboard/login`, { method: "POST", body: new URLSearchParams({ token: TOKEN }), redirect: "manual" });
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
  }
  const res = await fetch(`${relay.http}/dashboard${path}`, { headers: { cookie } });
  expect([path, res.status]).toEqual([path, 200]);
  return res.text();
}

async function post(path: string, fields: Record<string, string>, csrf = true): Promise<Response> {
  const token = /name="_csrf" value="([^"]+)"/.exec(await page(""))![1]!;
  return fetch(`${relay.http}/dashboard${path}`, { method: "POST", headers: { cookie }, body: new URLSearchParams(csrf ? { ...fields, _csrf: token } : fields), redirect: "manual" });
}

async function send(subject: string, to: string, as = tenant): Promise<string> {
  const res = await fetch(`${relay.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${as.apiKey}` }, body: JSON.stringify({ from: "alice@example.com", to: [to], subject, text: "x" }) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

interface QueuedTls {
  outcome: string;
  protocol: string | null;
  result_type: string | null;
}

async function queued(id: string): Promise<{ recipients: { state: string; tls: QueuedTls | null }[]; events: { type: string; tls: QueuedTls | null }[] }> {
  const res = await fetch(`${relay.http}/v1/admin/queue/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await res.json()) as { recipients: { state: string; tls: QueuedTls | null }[]; events: { type: string; tls: QueuedTls | null }[] };
}

async function states(id: string): Promise<string[]> {
  return (await queued(id)).recipients.map((r) => r.state);
}

async function admin<T>(path: string): Promise<T> {
  return (await (await fetch(`${relay.http}/v1/admin${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as T;
}

/** The dashboard's way of showing an instant (UTC, to the second). */
const shown = (iso: string) => new Date(iso).toISOString().replace("T", " ").slice(0, 19);

describe("objects", () => {
  test("a suppression is listed and removed (and not without the CSRF token)", async () => {
    expect(await page("/suppressions")).toContain("blocked@dest.test");
    expect((await post("/suppressions/remove", { account_id: "x", address: "blocked@dest.test" }, false)).status).toBe(403);
    const accountId = /name="account_id" value="([^"]+)"/.exec(await page("/suppressions"))![1]!;
    const res = await post("/suppressions/remove", { account_id: accountId, address: "blocked@dest.test" });
    expect([res.status, decodeURIComponent(res.headers.get("location") ?? "")]).toEqual([303, "/dashboard/suppressions?done=blocked@dest.test removed"]);
    expect(await page("/suppressions")).not.toContain("blocked@dest.test</td>");
    expect(await cliOk(dir, ["suppression", "list", "acme"])).toBe("no suppressed addresses");
  });

  test("the webhook's delivery log shows the delivery and replays it with the same id", async () => {
    await send("Hooked", "hooked@dest.test", hooked);
    await waitFor("the webhook", () => receiver.received.length >= 1 || undefined);
    expect(await page("/webhooks")).toContain(receiver.url);
    const log = await page(`/webhooks/${webhookId}`);
    expect(log).toContain("message.delivered");
    const deliveryId = /\/dashboard\/webhooks\/deliveries\/(\d+)\/replay/.exec(log)![1]!;
    const res = await post(`/webhooks/deliveries/${deliveryId}/replay`, { endpoint: webhookId });
    expect(res.status).toBe(303);
    await waitFor("the replay", () => receiver.received.length >= 2 || undefined);
    expect(receiver.received[1]!.headers["webhook-id"]).toBe(receiver.received[0]!.headers["webhook-id"]!);
  });

  test("routes and DKIM keys are shown with the DNS record to publish; accounts with their limits", async () => {
    const [key] = JSON.parse(await cliOk(dir, ["dkim", "list", "--json"])) as { record: string }[];
    const html = unescape(await page("/routes"));
    expect(html).toContain(key!.record);
    expect(html).toContain(`smtp://127.0.0.1:${upstream.port}?tls=none`);
    expect(await page("/accounts")).toContain("<td>acme</td>");
  });
});

describe("messages", () => {
  test("hold, release and delete act on the message through the queue functions, each an event in its trace", async () => {
    // Always deferred: released, it is due at once, and an attempt may start before the delete.
    deferAlways.add("hold@dest.test");
    const id = await send("Hold and release", "hold@dest.test");
    await waitFor("deferred", async () => (await states(id)).includes("deferred") || undefined);
    expect((await post(`/messages/${id}/hold`, {})).status).toBe(303);
    expect(await states(id)).toEqual(["held"]);
    expect((await post(`/messages/${id}/release`, {})).status).toBe(303);
    expect(await states(id)).toEqual(["deferred"]);
    // A recipient being tried right now is left alone by delete (queue-actions.ts): once
    // that attempt is recorded (deferred again), the next delete takes it.
    await waitFor("deleted", async () => {
      expect((await post(`/messages/${id}/delete`, {})).status).toBe(303);
      return (await states(id))[0] === "deleted" || undefined;
    });
    expect(await states(id)).toEqual(["deleted"]);
    const trace = await page(`/messages/${id}`);
    for (const type of ["accepted", "deferred", "held", "released", "deleted"]) expect(trace).toContain(`<li class="${type}">`);
    // Nothing left to act on: no action buttons.
    expect(trace).not.toContain(`/messages/${id}/retry`);
  });

  test("search by sender, id, state and time", async () => {
    const id = await send("Findable", "find@dest.test");
    const has = async (q: string) => (await page(`/messages?${q}`)).includes(`/dashboard/messages/${id}"`);
    expect(await has("sender=alice%40example")).toBe(true);
    expect(await has("sender=nobody")).toBe(false);
    expect(await has(`id=${id}`)).toBe(true);
    expect(await has("recipient=find%40dest.test")).toBe(true);
    expect(await has("recipient=other")).toBe(false);
    await waitFor("delivered", async () => (await states(id)).includes("delivered") || undefined);
    expect(await has("state=delivered")).toBe(true);
    expect(await has("state=held")).toBe(false);
    const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    expect(await has(`since=${minute(Date.now() - 3600_000)}`)).toBe(true);
    expect(await has(`since=${minute(Date.now() + 120_000)}`)).toBe(false);
    expect(await has(`until=${minute(Date.now() - 3600_000)}`)).toBe(false);
  });
});

describe("route health", () => {
  test("a route its upstream takes down (454 4.7.0 at MAIL) shows down with its time on the routes page and the overview fragment, with the event", async () => {
    const label = `smtp://127.0.0.1:${throttled.port}`;
    const rowOf = (html: string) => html.split("<tr").find((r) => r.includes(`${label}?tls=none`))!;
    expect(rowOf(unescape(await page("/routes")))).not.toContain('data-health="down"');
    // The breaker's threshold (3 route-level failures in a row), not one reply, takes it down.
    for (let i = 0; i < 3; i++) await send(`Down route ${i}`, "rcpt@down.test");
    const route = await waitFor("the route down", async () => (await admin<{ url: string; health: string | null; down_until: string | null; per_minute: number | null }[]>("/routes/health")).find((r) => r.url.startsWith(label) && r.health === "down"));
    const until = shown(route.down_until!);
    const routesPage = unescape(await page("/routes"));
    const row = routesPage.split("<tr").find((r) => r.includes(`${label}?tls=none`))!;
    expect(row).toContain('data-health="down">down</span>');
    expect(row).toContain(`until ${until}`);
    // The other routes stay up.
    expect(routesPage.split("<tr").find((r) => r.includes(`127.0.0.1:${upstream.port}?`))).toContain('data-health="up"');
    expect(routesPage).toContain("route.degraded");
    expect(routesPage).toContain("454 4.7.0 Throttling failure");
    const res = await fetch(`${relay.http}/dashboard`, { headers: { cookie, "hx-request": "true" } });
    expect(res.status).toBe(200);
    const fragment = unescape(await res.text());
    expect(fragment).not.toContain("<html");
    const overviewRow = fragment.split("<tr").find((r) => r.includes(`${label}?tls=none`))!;
    expect(overviewRow).toContain('data-health="down">down</span>');
    expect(overviewRow).toContain(`until ${until}`);
    expect(fragment).toContain("Latest route events");
    expect(fragment).toContain(`<code>${label}</code>`);
  });

  test("a route's quota is shown beside its health", async () => {
    const row = unescape(await page("/routes")).split("<tr").find((r) => r.includes(`${tlsUpstream.port}?tls_verify=false`))!;
    expect(row).toContain("600/min · 50000/day");
  });
});

describe("held over quota", () => {
  test("an account's mail held over its quota is counted beside the accounts nearest their limits", async () => {
    const fragment = async () => (await (await fetch(`${relay.http}/dashboard`, { headers: { cookie, "hx-request": "true" } })).text());
    const row = (html: string) => html.split("<tr").find((r) => r.includes("<td>burst</td>"))!;
    await page("");
    expect(row(await fragment())).toContain('<td class="num">0</td>');
    await send("Within quota", "one@dest.test", burst);
    const held = await send("Over quota", "two@dest.test", burst);
    await send("Over quota too", "three@dest.test", burst);
    expect(await states(held)).toEqual(["held"]);
    const html = await fragment();
    expect(row(html)).toContain('<td class="num">2 msg / 2 rcpt</td>');
    expect(html).toContain('<tr data-held="burst"><td>burst</td><td class="num">2</td><td class="num">2</td></tr>');
  });
});

describe("TLS outcome", () => {
  test("a message delivered over STARTTLS shows its TLS outcome in the trace and on the recipient row", async () => {
    const id = await send("Over TLS", "rcpt@tls.test");
    await waitFor("delivered", async () => (await states(id)).includes("delivered") || undefined);
    expect(tlsUpstream.received.find((m) => m.rcptTo.includes("rcpt@tls.test"))?.secure).toBe(true);
    const api = await queued(id);
    expect(api.recipients[0]!.tls).toMatchObject({ outcome: "opportunistic", protocol: "TLSv1.3" });
    const trace = await page(`/messages/${id}`);
    const delivered = trace.split("<li").find((l) => l.startsWith(' class="delivered"'))!;
    expect(delivered).toContain('data-tls="opportunistic">TLS opportunistic TLSv1.3');
    const rcptRow = trace.split("<tr").find((r) => r.includes("rcpt@tls.test"))!;
    expect(rcptRow).toContain('data-tls="opportunistic">TLS opportunistic TLSv1.3');
  });

  test("a certificate that fails its check shows its RFC 8460 result type", async () => {
    const id = await send("Checked TLS", "rcpt@tlscheck.test");
    const api = await waitFor("an attempt", async () => {
      const q = await queued(id);
      return q.recipients[0]!.tls ? q : undefined;
    });
    const tls = api.recipients[0]!.tls!;
    expect(tls.result_type).toBe("certificate-not-trusted");
    const trace = await page(`/messages/${id}`);
    const rcptRow = trace.split("<tr").find((r) => r.includes("rcpt@tlscheck.test"))!;
    expect(rcptRow).toContain(`data-tls="${tls.outcome}">TLS ${tls.outcome}`);
    expect(rcptRow).toContain('<span class="tls-failure"> certificate-not-trusted</span>');
  });

  test("a plaintext delivery shows TLS none", async () => {
    const id = await send("Plain", "plain@dest.test");
    await waitFor("delivered", async () => (await states(id)).includes("delivered") || undefined);
    const rcptRow = (await page(`/messages/${id}`)).split("<tr").find((r) => r.includes("plain@dest.test"))!;
    expect(rcptRow).toContain('data-tls="none">TLS none');
  });
});

describe("the session", () => {
  test("the cookie is Secure when the relay is reached over HTTPS (a proxy saying so), not over plain HTTP", async () => {
    const login = (headers: Record<string, string>) => fetch(`${relay.http}/dashboard/login`, { method: "POST", headers, body: new URLSearchParams({ token: TOKEN }), redirect: "manual" });
    expect((await login({ "x-forwarded-proto": "https" })).headers.get("set-cookie")).toContain("; Secure");
    expect((await login({})).headers.get("set-cookie")).not.toContain("Secure");
  });

  test("an htmx poll after the session ended is told to go to the login (HX-Redirect), not given the login page as a fragment", async () => {
    const res = await fetch(`${relay.http}/dashboard/messages`, { headers: { "hx-request": "true", cookie: "smarthost_dashboard=1.AAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } });
    expect([res.status, res.headers.get("hx-redirect")]).toEqual([401, "/dashboard/login"]);
  });
});

describe("the login", () => {
  // A relay of its own: the throttle it trips would refuse every other test's login.
  let own: { dir: string; relay: Relay } | undefined;
  afterEach(async () => {
    await own?.relay.stop();
    if (own) removeDir(own.dir);
    own = undefined;
  });

  test("wrong tokens count in the AUTH throttle shared with the admin API: refused (429) after a few", async () => {
    const ownDir = tempDir();
    own = { dir: ownDir, relay: await startRelay(ownDir, { SMARTHOST_ADMIN_TOKEN: TOKEN }) };
    const relay = own.relay;
    const login = (token: string) => fetch(`${relay.http}/dashboard/login`, { method: "POST", body: new URLSearchParams({ token }), redirect: "manual" });
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) seen.push((await login(`wrong-${i}`)).status);
    expect(seen).toEqual([401, 401, 401, 401, 401, 429]);
    const refused = await login(TOKEN);
    expect([refused.status, refused.headers.get("set-cookie"), Number(refused.headers.get("retry-after")) > 0]).toEqual([429, null, true]);
    const api = await fetch(`${relay.http}/v1/admin/accounts`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(429);
  }, 30_000);
});
