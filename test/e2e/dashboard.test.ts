/**
 * The dashboard in a real browser: Chromium (from the @sparticuz/chromium npm package)
 * driven by playwright-core against the real relay, with a real upstream that defers some
 * recipients once. Login, live overview, search → trace → retry → delivered, key revocation,
 * escaping of hostile text under the CSP, CSRF refusal, and the login guard on every page.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { launchChromium } from "../support/browser.ts";
import { writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { apiKeyId } from "../../src/policy/api-keys.ts";
import { addTenant, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";
import { queueStates } from "../support/api.ts";

const TOKEN = "admin-token-for-dashboard-0123456789abcdef";
const DEFER = { code: 451, message: "4.3.0 mailbox busy, try again later" };
const HOSTILE = "<img src=x onerror=alert(1)>";
const ROOT = join(import.meta.dir, "..", "..");

let dir: string;
let relay: Relay;
let upstream: Upstream;
let tenant: Tenant;
let browser: Browser;
// The locale the machine would give ("en-US@posix" under LANG=C) is not one Intl accepts.
const CONTEXT = { viewport: { width: 1360, height: 900 }, locale: "en-GB", timezoneId: "UTC" };
/** Recipients the upstream defers once (451 at RCPT), then accepts. */
const deferOnce = new Set<string>();

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({ onRcpt: (address) => (deferOnce.delete(address) ? DEFER : null) });
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`]);
  tenant = await addTenant(dir, { limits: ["--per-minute", "40", "--per-day", "1000"] });
  await addTenant(dir, { account: "globex", username: "gina", limits: ["--per-day", "500"] });
  relay = await startRelay(dir, { SMARTHOST_ADMIN_TOKEN: TOKEN, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "3600" });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

async function send(subject: string, to: string[], key = tenant.apiKey): Promise<Response> {
  return fetch(`${relay.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ from: "alice@example.com", to, subject, text: "hi" }) });
}

async function sent(subject: string, to: string[]): Promise<string> {
  const res = await send(subject, to);
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const { states, settled } = queueStates(() => relay.http, TOKEN);

/** A logged-in page; `problems` collects script errors and console errors (a CSP refusal is one). */
async function loggedIn(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext(CONTEXT);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${relay.http}/dashboard/login`);
  await page.fill('input[name="token"]', TOKEN);
  await Promise.all([page.waitForURL(`${relay.http}/dashboard`), page.click('button[type="submit"]')]);
  return { context, page, problems };
}

describe("without a session", () => {
  test("every page redirects to the login", async () => {
    const context = await browser.newContext(CONTEXT);
    const page = await context.newPage();
    for (const path of ["", "/", "/messages?recipient=x", "/messages/ANYID", "/suppressions", "/webhooks", "/webhooks/wh_x", "/accounts", "/routes", "/series?minutes=60"]) {
      const res = await fetch(`${relay.http}/dashboard${path}`, { redirect: "manual" });
      expect([path, res.status, res.headers.get("location")]).toEqual([path, 303, "/dashboard/login"]);
      await page.goto(`${relay.http}/dashboard${path}`);
      expect(page.url()).toBe(`${relay.http}/dashboard/login`);
    }
    // A POST without a session acts on nothing either.
    const post = await fetch(`${relay.http}/dashboard/keys/anything/revoke`, { method: "POST", redirect: "manual" });
    expect(post.status).toBe(303);
    await context.close();
  });

  test("a wrong token is refused; the right one gives an HttpOnly, SameSite=Strict, expiring session cookie", async () => {
    const context = await browser.newContext(CONTEXT);
    const page = await context.newPage();
    await page.goto(`${relay.http}/dashboard/login`);
    await page.fill('input[name="token"]', `${TOKEN}x`);
    // The refusal is the answer to the form's POST: 401, and the page it sends says why.
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${relay.http}/dashboard/login` && r.request().method() === "POST", { timeout: 45_000 }),
      page.click('button[type="submit"]'),
    ]);
    expect(refused.status()).toBe(401);
    expect(await refused.text()).toContain("not the admin token");
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${relay.http}/dashboard/login`);
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${relay.http}/dashboard`), page.click('button[type="submit"]')]);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "smarthost_dashboard", httpOnly: true, sameSite: "Strict", path: "/dashboard", secure: false });
    expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 3600_000);
    // A copy of the cookie, as a thief would keep it: it opens the pages while the session lasts.
    const copied = { cookie: `smarthost_dashboard=${cookie!.value}` };
    expect((await fetch(`${relay.http}/dashboard/accounts`, { headers: copied, redirect: "manual" })).status).toBe(200);
    // Logging out ends it: the next page is the login again.
    await Promise.all([page.waitForURL(`${relay.http}/dashboard/login`), page.click(".logout button")]);
    await page.goto(`${relay.http}/dashboard`);
    expect(page.url()).toBe(`${relay.http}/dashboard/login`);
    // And for the copy too: the session ended on the server, not only in this browser.
    const after = await fetch(`${relay.http}/dashboard/accounts`, { headers: copied, redirect: "manual" });
    expect([after.status, after.headers.get("location")]).toEqual([303, "/dashboard/login"]);
    await context.close();
  });
});

describe("logged in", () => {
  test("the overview shows the messages just sent, and new ones appear without a reload", async () => {
    // Other tests deliver too: the card counts on from what it shows before this test sends.
    const first = await loggedIn();
    const before = Number(await first.page.locator(".card.delivered .n").textContent());
    await first.context.close();
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await sent(`Invoice ${i + 1}`, [`customer${i}@dest.test`]));
    deferOnce.add("slow@busy.test");
    ids.push(await sent("Weekly report", ["slow@busy.test"]));
    for (const id of ids.slice(0, 6)) await settled(id, "delivered");
    await settled(ids[6]!, "deferred");
    const { context, page, problems } = await loggedIn();
    for (const id of ids) await page.locator(`a[href="/dashboard/messages/${id}"]`).first().waitFor();
    await expect(page.locator(".card.delivered .n").textContent()).resolves.toBe(String(before + 6));
    await expect(page.locator("section", { hasText: "Top deferral reasons" }).textContent()).resolves.toContain("451 4.3.0 mailbox busy");
    await page.locator('.chart[data-drawn="true"]').nth(1).waitFor();
    // htmx polling: a message sent now shows up in the same document (no navigation).
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const late = await sent("Late arrival", ["late@dest.test"]);
    await page.locator(`a[href="/dashboard/messages/${late}"]`).first().waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    await settled(late, "delivered");
    await page.locator(".card.delivered .n", { hasText: new RegExp(`^${before + 7}$`) }).waitFor({ timeout: 15_000 });
    const png = await page.screenshot({ fullPage: true });
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    // The test never writes into the tree: `npm run screenshot` (scripts/update-screenshot.ts)
    // names a temp file here and copies it to docs/dashboard.png.
    const keepAt = process.env.SMARTHOST_SCREENSHOT_TO;
    if (keepAt) {
      if (!relative(ROOT, resolve(keepAt)).startsWith("..")) throw new Error(`SMARTHOST_SCREENSHOT_TO=${keepAt} is inside the tree: name a file outside it (npm run screenshot does)`);
      writeFileSync(keepAt, png);
    }
    // htmx, uPlot and our script ran under the CSP without a refusal or an error.
    expect(problems).toEqual([]);
    await context.close();
  });

  test("search a recipient, open its trace, retry the deferred message and see it delivered", async () => {
    deferOnce.add("carol@dest.test");
    const id = await sent("Quarterly numbers", ["carol@dest.test"]);
    await settled(id, "deferred");
    const { context, page } = await loggedIn();
    await page.click('nav a[href="/dashboard/messages"]');
    await page.fill('input[name="recipient"]', "carol@dest");
    await Promise.all([page.waitForURL(/recipient=carol/), page.click('.search button[type="submit"]')]);
    expect(await page.locator("table.messages tbody tr").count()).toBe(1);
    await Promise.all([page.waitForURL(`${relay.http}/dashboard/messages/${id}`), page.click(`a[href="/dashboard/messages/${id}"]`)]);
    await expect(page.locator(".trace li.deferred").textContent()).resolves.toContain("451 4.3.0 mailbox busy");
    await expect(page.locator(".trace li.accepted").count()).resolves.toBe(1);
    await Promise.all([page.waitForURL(/done=retry/), page.click('.actions button:text("retry")')]);
    await expect(page.locator(".flash").textContent()).resolves.toBe("retry: 1 recipient(s)");
    // The live trace shows the outcome as delivery happens.
    await page.locator(".trace li.delivered").waitFor({ timeout: 15_000 });
    await expect(page.locator(".trace li.retried").count()).resolves.toBe(1);
    expect(await states(id)).toEqual(["delivered"]);
    await context.close();
  });

  test("revoking a key in the page makes the next API call with it a 401", async () => {
    const key = await cliOk(dir, ["key", "add", "globex"]);
    const keyId = apiKeyId(key)!;
    expect((await fetch(`${relay.http}/v1/messages`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    const { context, page } = await loggedIn();
    await page.click('nav a[href="/dashboard/accounts"]');
    await Promise.all([page.waitForURL(/done=key/), page.click(`tr[data-key="${keyId}"] button`)]);
    await expect(page.locator(".flash").textContent()).resolves.toBe(`key ${keyId} revoked`);
    const res = await fetch(`${relay.http}/v1/messages`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(401);
    expect(await page.locator(`tr[data-key="${keyId}"] button`).count()).toBe(0);
    await context.close();
  });

  test("a hostile subject renders as text and runs nothing", async () => {
    const id = await sent(HOSTILE, ["dave@dest.test"]);
    await settled(id, "delivered");
    const { context, page } = await loggedIn();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.reload();
    await expect(page.locator(`tr:has(a[href="/dashboard/messages/${id}"]) td.subject`).textContent()).resolves.toBe(HOSTILE);
    await page.goto(`${relay.http}/dashboard/messages/${id}`);
    await expect(page.locator("dd.subject").textContent()).resolves.toBe(HOSTILE);
    await page.goto(`${relay.http}/dashboard/messages?sender=${encodeURIComponent(HOSTILE)}`);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    const res = await page.request.get(`${relay.http}/dashboard/messages/${id}`);
    expect(res.headers()["content-security-policy"]).toContain("script-src 'self'");
    expect(await res.text()).toContain("&lt;img src=x onerror=alert(1)&gt;");
    await context.close();
  });

  test("a POST without the session's CSRF token is refused and changes nothing", async () => {
    deferOnce.add("erin@dest.test");
    const id = await sent("Hold me not", ["erin@dest.test"]);
    await settled(id, "deferred");
    const { context, page } = await loggedIn();
    const other = await loggedIn();
    const otherToken = await other.page.locator('.logout input[name="_csrf"]').getAttribute("value");
    await other.context.close();
    const url = `${relay.http}/dashboard/messages/${id}/hold`;
    expect((await page.request.post(url, { form: {}, maxRedirects: 0 })).status()).toBe(403);
    expect((await page.request.post(url, { form: { _csrf: otherToken! }, maxRedirects: 0 })).status()).toBe(403);
    // From inside the page too (what a script injected into it could try).
    const status = await page.evaluate(async (u) => (await fetch(u, { method: "POST", body: new URLSearchParams({}) })).status, url);
    expect(status).toBe(403);
    expect(await states(id)).toEqual(["deferred"]);
    const own = await page.locator('.logout input[name="_csrf"]').getAttribute("value");
    expect((await page.request.post(url, { form: { _csrf: own! }, maxRedirects: 0 })).status()).toBe(303);
    expect(await states(id)).toEqual(["held"]);
    await context.close();
  });
});
