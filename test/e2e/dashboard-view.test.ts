/**
 * The dashboard's message view and the overview's fixes, in Chromium (playwright-core)
 * against the real relay delivering to smtp-server upstreams: headers, the source downloaded
 * byte for byte, the preview in a sandboxed frame that loads nothing remote, search by
 * subject, pages, rates in percent, times with their zone; deferral reasons grouped with
 * their times and ids taken out and our own waits not counted; a route past its down time
 * not shown down; plaintext to a route that offers no TLS not in red; a 420 px screen.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { launchChromium } from "../support/browser.ts";
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { addTenant, cli, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";
import { queueStates } from "../support/api.ts";

const TOKEN = "admin-token-for-dashboard-view-0123456789ab";
const CONTEXT = { viewport: { width: 1360, height: 900 }, locale: "en-GB", timezoneId: "UTC" };
// dashboard.css: --bad and --muted.
const RED = "rgb(192, 57, 43)";
const MUTED = "rgb(107, 114, 128)";

let dir: string;
let relay: Relay;
let tenant: Tenant;
let browser: Browser;
// Delivers, bounces (5.1.1 / 5.7.1) or defers by the recipient's local part.
let upstream: Upstream;
// Offers no STARTTLS: a route that does not require TLS delivers in plaintext.
let plain: Upstream;
// Refuse every MAIL (454 4.7.0): three in a row take a route down (the breaker's threshold).
let downing: Upstream;
let staling: Upstream;
// Counts every request: the preview must make none.
let tracker: ReturnType<typeof Bun.serve>;
const trackerHits: string[] = [];
let staleTrippedAt = 0;

function upstreamReply(address: string): { code: number; message: string } | null {
  const local = address.split("@")[0]!;
  if (local.startsWith("nouser")) return { code: 550, message: "5.1.1 no such user" };
  if (local.startsWith("full")) return { code: 552, message: "5.2.2 mailbox full" };
  // A text with a time and an id in it, different for every attempt.
  if (local.startsWith("grey")) return { code: 451, message: `4.7.1 Greylisted until ${new Date().toISOString()}, queue id Q${crypto.randomUUID().slice(0, 8)}x` };
  return null;
}

const throttling = { closeTimeout: 50, onMailFrom: (_a: unknown, _s: unknown, cb: (e?: Error) => void) => cb(Object.assign(new Error("4.7.0 Throttling failure"), { responseCode: 454 })) };

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({ onRcpt: upstreamReply });
  plain = await startUpstream({ hideStartTls: true });
  downing = await startUpstream({ extra: throttling });
  staling = await startUpstream({ extra: throttling });
  tracker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (trackerHits.push(req.url), new Response("gif")) });
  tenant = await addTenant(dir);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`]);
  await cliOk(dir, ["route", "add", "plain.test", `smtp://127.0.0.1:${plain.port}`]);
  await cliOk(dir, ["route", "add", "down.test", `smtp://127.0.0.1:${downing.port}?tls=none`]);
  await cliOk(dir, ["route", "add", "stale.test", `smtp://127.0.0.1:${staling.port}?tls=none`]);
  relay = await startRelay(dir, { SMARTHOST_ADMIN_TOKEN: TOKEN, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "3600" });
  // Taken down now (30 s), so that by the last test its down time is over.
  await tripRoute("stale.test", staling.port);
  staleTrippedAt = Date.now();
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  await upstream?.close();
  await plain?.close();
  await downing?.close();
  await staling?.close();
  await tracker?.stop(true);
  if (dir) removeDir(dir);
});

async function send(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${relay.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${tenant.apiKey}` }, body: JSON.stringify({ from: "alice@example.com", text: "hi", ...body }) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const { states, settled } = queueStates(() => relay.http, TOKEN);

async function routeHealth(port: number): Promise<{ health: string | null; down_until: string | null } | undefined> {
  const res = await fetch(`${relay.http}/v1/admin/routes/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { url: string; health: string | null; down_until: string | null }[]).find((r) => r.url.startsWith(`smtp://127.0.0.1:${port}`));
}

async function tripRoute(domain: string, port: number): Promise<string> {
  for (let i = 0; i < 3; i++) await settled(await send({ to: [`r${i}@${domain}`], subject: `Trip ${domain} ${i}` }), "deferred");
  const r = await waitFor(`${domain} down`, async () => {
    const h = await routeHealth(port);
    return h?.health === "down" ? h : undefined;
  });
  return r.down_until!;
}

/** A logged-in page (the overview). */
async function loggedIn(viewport = CONTEXT.viewport): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ...CONTEXT, viewport, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${relay.http}/dashboard/login`);
  await page.fill('input[name="token"]', TOKEN);
  await Promise.all([page.waitForURL(`${relay.http}/dashboard`), page.click('button[type="submit"]')]);
  return { context, page };
}

/**
 * A new page of a logged-in context that records, from its first request on, every URL a
 * response came back for (`answered`) and every request the browser stopped, with why
 * (`refused`). A page of its own: the network events of a page that navigated away from a
 * poll in flight can name requests the driver has already let go, which fails the call under way.
 */
async function watchedPage(context: BrowserContext): Promise<{ page: Page; answered: string[]; refused: string[] }> {
  const page = await context.newPage();
  const answered: string[] = [];
  const refused: string[] = [];
  page.on("response", (r) => answered.push(r.url()));
  page.on("requestfailed", (r) => refused.push(`${r.url()} ${r.failure()?.errorText}`));
  return { page, answered, refused };
}

/** The overview's live part as the browser's poll gets it. */
async function overview(page: Page): Promise<string> {
  return (await page.request.get(`${relay.http}/dashboard`, { headers: { "hx-request": "true" } })).text();
}

describe("the message view", () => {
  test("shows the headers, downloads the exact stored bytes, and previews the HTML in a sandboxed frame that loads nothing remote", async () => {
    const pixel = `http://127.0.0.1:${tracker.port}/pixel.gif`;
    const id = await send({ to: ["viewer@dest.test"], subject: "Preview me", text: "The text part", html: `<meta http-equiv="refresh" content="0;url=http://127.0.0.1:${tracker.port}/refresh"><p>Hello <b class="hello">preview</b></p><img src="${pixel}"><link rel="stylesheet" href="http://127.0.0.1:${tracker.port}/x.css">` });
    await settled(id, "delivered");
    const { context } = await loggedIn();
    const { page, answered, refused } = await watchedPage(context);
    await page.goto(`${relay.http}/dashboard/messages/${id}`);
    const headers = page.locator("table.headers");
    await expect(headers.locator("tr", { hasText: "Subject" }).locator("td").textContent()).resolves.toBe("Preview me");
    await expect(headers.locator("tr", { hasText: "Message-ID" }).count()).resolves.toBeGreaterThan(0);
    await expect(page.locator("dl.envelope").textContent()).resolves.toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);

    // The frame: sandboxed with no permission at all (no scripts, no same origin).
    const frame = page.locator("iframe.preview");
    expect(await frame.getAttribute("sandbox")).toBe("");
    await expect(page.frameLocator("iframe.preview").locator("b.hello").textContent()).resolves.toBe("preview");
    const preview = await page.request.get(`${relay.http}/dashboard/messages/${id}/preview?part=html`);
    const csp = preview.headers()["content-security-policy"]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("img-src data:");
    expect(csp).not.toContain("script-src");
    // The browser stopped the frame's remote loads by the policy: nothing reached the tracker.
    expect(refused.filter((r) => r.includes(`:${tracker.port}/`)).sort()).toEqual([`${pixel} csp`, `http://127.0.0.1:${tracker.port}/x.css csp`]);
    expect(answered.filter((u) => u.includes(`:${tracker.port}/`))).toEqual([]);
    expect(trackerHits).toEqual([]);
    // The text part, in the same frame.
    // Followed as the browser does on activation (a click at the link's coordinates can land on
    // the live part above while htmx swaps it, on a loaded machine).
    const textLink = page.locator('.parts a:text("text")');
    expect(await textLink.getAttribute("target")).toBe("preview");
    // What the frame was given, read from its navigation's answer: the frame's document itself
    // lives in a process of its own (a sandboxed frame), which the driver may reach late on a loaded machine.
    const [textAnswer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/preview?part=text")),
      textLink.evaluate((a) => (a as unknown as { click(): void }).click()),
    ]);
    expect([textAnswer.status(), textAnswer.request().isNavigationRequest(), textAnswer.frame().name()]).toEqual([200, true, "preview"]);
    expect(await textAnswer.text()).toMatch(/<pre[^>]*>The text part<\/pre>/);

    // The download: an attachment of type message/rfc822 holding the stored bytes exactly.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("a.download")]);
    expect(download.suggestedFilename()).toBe(`${id}.eml`);
    const got = readFileSync((await download.path())!);
    const db = openDb(relay.dbUrl);
    const stored = new Uint8Array((await db.execute({ sql: "SELECT raw FROM messages WHERE id = ?", args: [id] })).rows[0]!.raw as ArrayBuffer);
    db.close();
    expect(Buffer.compare(got, Buffer.from(stored))).toBe(0);
    const raw = await page.request.get(`${relay.http}/dashboard/messages/${id}/raw`);
    expect(raw.headers()["content-disposition"]).toBe(`attachment; filename="${id}.eml"`);
    expect(raw.headers()["content-type"]).toBe("message/rfc822");
    // Nor did the HTML's meta refresh take the frame there meanwhile (a sandbox without scripts refuses it).
    expect(trackerHits).toEqual([]);
    await context.close();
  });

  test("search by subject finds a message by its decoded subject", async () => {
    const id = await send({ to: ["subject@dest.test"], subject: "Résumé für Quartal 3" });
    const other = await send({ to: ["subject@dest.test"], subject: "Something else" });
    const { context, page } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/messages`);
    await page.fill('input[name="subject"]', "résumé für");
    await Promise.all([page.waitForURL(/subject=/), page.click('.search button[type="submit"]')]);
    await expect(page.locator(`a[href="/dashboard/messages/${id}"]`).count()).resolves.toBe(1);
    await expect(page.locator(`a[href="/dashboard/messages/${other}"]`).count()).resolves.toBe(0);
    await expect(page.locator("table.messages tbody tr").count()).resolves.toBe(1);
    await context.close();
  });

  test("a long list is shown in pages, older and newer", async () => {
    const tag = `pg${Date.now()}`;
    for (let i = 1; i <= 12; i++) await send({ to: ["pages@dest.test"], subject: `Paging ${tag} n${i}` });
    const { context, page } = await loggedIn();
    const subjects = async () => (await page.locator("table.messages td.subject").allTextContents()).map((s) => s.split(" ").at(-1));
    await page.goto(`${relay.http}/dashboard/messages?subject=${tag}&per_page=10`);
    expect(await subjects()).toEqual(["n12", "n11", "n10", "n9", "n8", "n7", "n6", "n5", "n4", "n3"]);
    expect(await page.locator('.pager a[rel="prev"]').count()).toBe(0);
    await Promise.all([page.waitForURL(/before=/), page.click('.pager a[rel="next"]')]);
    expect(await subjects()).toEqual(["n2", "n1"]);
    expect(await page.locator('.pager a[rel="next"]').count()).toBe(0);
    await Promise.all([page.waitForURL(/after=/), page.click('.pager a[rel="prev"]')]);
    expect(await subjects()).toEqual(["n12", "n11", "n10", "n9", "n8", "n7", "n6", "n5", "n4", "n3"]);
    await context.close();
  });

  test("delivery and bounce rates in percent, by destination domain and by bounce type", async () => {
    const ids = [];
    for (const to of ["a@rates.test", "b@rates.test", "c@rates.test", "nouser@rates.test"]) ids.push(await send({ to: [to], subject: "Rates" }));
    for (const id of ids.slice(0, 3)) await settled(id, "delivered");
    await settled(ids[3]!, "bounced");
    await settled(await send({ to: ["full@full.test"], subject: "Rates" }), "bounced");
    const { context, page } = await loggedIn();
    const row = page.locator('table.rates-domains tr[data-domain="rates.test"] td');
    await expect(row.allTextContents()).resolves.toEqual(["rates.test", "4", "75.0 %", "25.0 %", "0.0 %"]);
    await expect(page.locator('table.rates-domains tr[data-domain="full.test"] td').allTextContents()).resolves.toEqual(["full.test", "1", "0.0 %", "100.0 %", "0.0 %"]);
    const type = async (t: string) => page.locator(`table.rates-bounces tr[data-bounce-type="${t}"] td`).allTextContents();
    expect((await type("5.1.x"))[0]).toContain("address");
    expect((await type("5.2.x"))[0]).toContain("mailbox");
    expect((await type("5.1.x"))[2]).toMatch(/^\d+\.\d %$/);
    await context.close();
  });
});

describe("the overview", () => {
  test("deferral reasons are grouped with their times and ids taken out", async () => {
    for (let i = 0; i < 3; i++) await settled(await send({ to: [`grey${i}@dest.test`], subject: "Greylisted" }), "deferred");
    const { context, page } = await loggedIn();
    const rows = page.locator("section", { hasText: "Top deferral reasons" }).locator("tbody tr", { hasText: "Greylisted" });
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.locator("td").nth(0).textContent()).resolves.toContain("451 4.7.1 Greylisted until <time>, queue id <id>");
    await expect(rows.locator("td.num").textContent()).resolves.toBe("3");
    await context.close();
  });

  test("waiting for a route that is down is not counted as a deferral", async () => {
    await tripRoute("down.test", downing.port);
    const { context, page } = await loggedIn();
    const deferredCard = async () => Number(/data-total="deferred">(\d+)</.exec(await overview(page))![1]);
    const db = openDb(relay.dbUrl);
    // Nothing else on its way first (mail of earlier tests, DSNs): the card moves only by this message.
    await waitFor("a quiet queue", async () => Number((await db.execute({ sql: "SELECT count(*) AS n FROM recipients WHERE state = 'queued' OR lease_owner IS NOT NULL OR (state = 'deferred' AND next_attempt_at < ?)", args: [Date.now() + 60_000] })).rows[0]!.n) === 0 || undefined);
    const lastEvent = Number((await db.execute("SELECT coalesce(max(id), 0) AS id FROM events")).rows[0]!.id);
    const before = await deferredCard();
    const id = await send({ to: ["waits@down.test"], subject: "Waits for the route" });
    // Recorded as a wait: the recipient deferred with the route's reopening as its reason.
    await waitFor("the wait", async () => (await db.execute({ sql: "SELECT 1 FROM events WHERE message_id = ? AND type = 'deferred' AND detail LIKE 'route_down:%'", args: [id] })).rows.length > 0 || undefined);
    const html = await overview(page);
    const after = await deferredCard();
    // Every deferred event since, with what it was: the wait's own must not move the card.
    const since = (await db.execute({ sql: "SELECT recipient, detail, reply IS NOT NULL AS replied FROM events WHERE id > ? AND type = 'deferred' ORDER BY id", args: [lastEvent] })).rows;
    db.close();
    expect({ moved: after - before, since: since.map((r) => `${r.recipient} ${r.replied ? "replied" : "no reply"} ${r.detail}`) }).toEqual({ moved: 0, since: [expect.stringMatching(/^waits@down\.test no reply route_down: /)] });
    const deferrals = html.slice(html.indexOf("Top deferral reasons"), html.indexOf("</table>", html.indexOf("Top deferral reasons")));
    expect(deferrals).not.toContain("route_down");
    expect(html).toContain("Waiting for a route");
    await page.reload();
    await expect(page.locator("table.waits tr", { hasText: `127.0.0.1:${downing.port}` }).locator("td.num").textContent()).resolves.toBe("1");
    await context.close();
  });

  test("plaintext delivery to a route that offers no TLS and does not require it is not shown in red", async () => {
    const id = await send({ to: ["plain@plain.test"], subject: "Plain" });
    await settled(id, "delivered");
    expect(plain.received.at(-1)?.secure).toBe(false);
    const { context, page } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/messages/${id}`);
    const tls = page.locator('tr:has-text("plain@plain.test") [data-tls="none"]');
    await expect(tls.textContent()).resolves.toContain("TLS none");
    // The live part is swapped every few seconds: an element just swapped out has no style ("").
    const color = await waitFor("the style", async () => (await tls.evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(e).color)) || undefined);
    expect(color).not.toBe(RED);
    expect(color).toBe(MUTED);
    await context.close();
  });

  test("the pages fit a 420 px screen: no horizontal scrolling", async () => {
    const id = await send({ to: ["narrow@dest.test"], subject: "A narrow screen with a rather long subject line that goes on and on" });
    await settled(id, "delivered");
    const { context, page } = await loggedIn({ width: 420, height: 800 });
    for (const path of ["", "/messages", `/messages/${id}`, "/routes"]) {
      await page.goto(`${relay.http}/dashboard${path}`);
      expect([path, await page.evaluate("document.documentElement.scrollWidth")]).toEqual([path, 420]);
    }
    await context.close();
  });

  test("a route past its down time is not shown as down: dashboard, admin API, route list", async () => {
    const label = `smtp://127.0.0.1:${staling.port}`;
    const h = (await routeHealth(staling.port))!;
    // Still down in the breaker's table (no message has tried it since), but open again once past down_until.
    const db = openDb(relay.dbUrl);
    const stored = (await db.execute({ sql: "SELECT state FROM route_health WHERE route = ?", args: [label] })).rows[0]?.state;
    db.close();
    expect(stored).toBe("down");
    const until = Date.parse(h.down_until!);
    expect(until).toBeGreaterThan(staleTrippedAt - 60_000);
    await waitFor("the down time over", () => Date.now() > until + 500 || undefined, 45_000);
    expect((await routeHealth(staling.port))!.health).toBe("reopened");
    const listed = JSON.parse((await cli(dir, ["route", "list", "--json"])).stdout) as { url: string; health: string }[];
    expect(listed.find((r) => r.url.startsWith(label))?.health).toBe("reopened");
    const { context, page } = await loggedIn();
    for (const path of ["", "/routes"]) {
      await page.goto(`${relay.http}/dashboard${path}`);
      const row = page.locator("table.routes tr", { hasText: label });
      await expect(row.locator("[data-health]").getAttribute("data-health")).resolves.toBe("reopened");
      expect(await row.getAttribute("class")).not.toBe("warn");
    }
    await context.close();
  }, 90_000);
});
