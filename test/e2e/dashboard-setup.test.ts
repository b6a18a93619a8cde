/**
 * The dashboard's setup pages in a real browser (Chromium from @sparticuz/chromium, driven
 * by playwright-core) against the real relay: each kind of object is created with its form,
 * seen in the list, checked with the CLI or the admin API and put to work (smtplib AUTH with
 * a new credential, POST /v1/messages with a new key, mail through a new route to a real
 * smtp-server, a DKIM record seen in a loopback DNS, a signed webhook), its secret shown once
 * and gone on reload, and removed from the page. Bad input is said inline; pages fit 420 px.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { launchChromium } from "../support/browser.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { adminClient, postMessage } from "../support/api.ts";
import { startDns, type DnsServer, type Zone } from "../support/dns-server.ts";
import { smtplibLogin } from "../support/python.ts";
import { cli, cliOk, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";
import { waitFor } from "../support/wait.ts";

const TOKEN = "admin-token-for-dashboard-setup-0123456789";
const ROUTE_USER = "provider-user";
const ROUTE_PASSWORD = "route-pass-Zq81xV";

let dir: string;
let relay: Relay;
let upstream: Upstream;
let dns: DnsServer;
let receiver: Receiver;
let browser: Browser;
const zone: Zone = { txt: {} };
const CONTEXT = { viewport: { width: 1280, height: 900 }, locale: "en-GB", timezoneId: "UTC" };
const admin = adminClient(() => relay.http, TOKEN);

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({ auth: { username: ROUTE_USER, password: ROUTE_PASSWORD } });
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  dns = await startDns(zone);
  receiver = startReceiver();
  relay = await startRelay(dir, {
    SMARTHOST_ADMIN_TOKEN: TOKEN,
    SMARTHOST_DELIVERY: "true",
    SMARTHOST_DELIVERY_POLL_MS: "100",
    SMARTHOST_UPSTREAM_CA_FILE: ca,
    SMARTHOST_DNS_SERVERS: dns.address,
    SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true",
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  await upstream?.close();
  await receiver?.stop();
  await dns?.close();
  if (dir) removeDir(dir);
});

/** A logged-in page; confirmations (remove?) are accepted; script and CSP errors collected. */
async function loggedIn(viewport = CONTEXT.viewport): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ ...CONTEXT, viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => void d.accept());
  await page.goto(`${relay.http}/dashboard/login`);
  await page.fill('input[name="token"]', TOKEN);
  await Promise.all([page.waitForURL(`${relay.http}/dashboard`), page.click('button[type="submit"]')]);
  return { context, page, problems };
}

/** Fills the setup form of `slug` (inputs and selects by name), submits it, and returns the answer's status once swapped in. */
async function submit(page: Page, slug: string, fields: Record<string, string | string[]>, o: { noValidate?: boolean } = {}): Promise<number> {
  if (o.noValidate) await page.$eval("form.setup-form", (f) => f.setAttribute("novalidate", ""));
  for (const [name, value] of Object.entries(fields)) {
    if (Array.isArray(value)) {
      for (const v of value) await page.check(`form.setup-form input[name="${name}"][value="${v}"]`);
      continue;
    }
    const id = `#f-${slug}-${name}`;
    if ((await page.locator(id).evaluate((el) => el.tagName)) === "SELECT") await page.selectOption(id, value);
    else await page.fill(id, value);
  }
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${relay.http}/dashboard/setup/${slug}` && r.request().method() === "POST"),
    page.click("form.setup-form button[type=submit]"),
  ]);
  await res.finished();
  // htmx swaps #setup once the answer is in: the form is a new element then.
  // (A function, not a string: the page's CSP forbids eval, which a string would need.)
  await page.waitForFunction(() => !(globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector("#setup.htmx-request, .htmx-settling, .htmx-swapping"));
  return res.status();
}

/** Clicks the remove (or revoke) button of the row with a cell saying `text`, and waits for the page to come back. */
async function removeRow(page: Page, text: string, verb = "remove"): Promise<string> {
  await Promise.all([page.waitForURL(/done=/), page.locator("table.setup-list tr").filter({ has: page.getByRole("cell", { name: text, exact: true }) }).getByRole("button", { name: verb }).click()]);
  return (await page.locator(".flash").first().textContent()) ?? "";
}

/** Clicks the `verb` button (rotate) of the row with a cell saying `text`; returns the answer's status once swapped in. */
async function rowButton(page: Page, slug: string, text: string, verb: string): Promise<number> {
  const row = page.locator("table.setup-list tr").filter({ has: page.getByRole("cell", { name: text, exact: true }) });
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${relay.http}/dashboard/setup/${slug}/${verb}` && r.request().method() === "POST"),
    row.getByRole("button", { name: verb }).click(),
  ]);
  await res.finished();
  await page.waitForFunction(() => !(globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector("#setup.htmx-request, .htmx-settling, .htmx-swapping"));
  return res.status();
}

const listText = async (page: Page) => (await page.locator("#setup .scroll").first().textContent()) ?? "";
const json = async (args: string[]) => {
  const r = await cli(dir, [...args, "--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
};
const account = async (name: string) => expect((await admin("POST", "/accounts", { name })).status).toBe(201);

describe("setup pages", () => {
  test("an account is made with its limits and over-limit behaviour, refused inline when bad, and removed", async () => {
    const { context, page, problems } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/setup`);
    expect(page.url()).toBe(`${relay.http}/dashboard/setup/accounts`);
    expect(await submit(page, "accounts", { name: "bad name!" })).toBe(400);
    expect(await page.locator("#setup-error").textContent()).toContain("account name: letters, digits");
    // The value typed stays in the form to be corrected.
    expect(await page.inputValue("#f-accounts-name")).toBe("bad name!");
    // What the browser would stop (min=1, whole numbers) the server refuses too.
    expect(await submit(page, "accounts", { name: "shop", per_minute: "1.5" }, { noValidate: true })).toBe(400);
    expect(await page.locator("#setup-error").textContent()).toBe("Messages per minute must be a whole number");
    expect(await submit(page, "accounts", { name: "shop", per_minute: "", per_day: "0" }, { noValidate: true })).toBe(400);
    expect(await page.locator("#setup-error").textContent()).toBe("Messages per day must be at least 1");

    expect(await submit(page, "accounts", { name: "shop", per_minute: "30", per_day: "1000", recipients_per_day: "", over_limit: "hold" })).toBe(200);
    expect(await page.locator("#setup .flash").textContent()).toBe("account shop created");
    expect(await listText(page)).toContain("shop");
    expect((await json(["account", "list"])).find((a) => a.name === "shop")).toMatchObject({ per_minute: 30, per_day: 1000, recipients_per_day: null, over_limit: "hold" });
    expect(await submit(page, "accounts", { name: "shop" })).toBe(409);
    expect(await page.locator("#setup-error").textContent()).toBe('account "shop" already exists');

    expect(await removeRow(page, "shop")).toContain("account shop removed");
    expect((await json(["account", "list"])).map((a) => a.name)).not.toContain("shop");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("an account's edit form shows what is stored, refuses a bad value inline, and saves what then holds", async () => {
    await cliOk(dir, ["account", "add", "editme", "--per-minute", "100", "--per-day", "5000"]);
    await cliOk(dir, ["sender", "allow", "editme", "example.com"]);
    const key = await cliOk(dir, ["key", "add", "editme"]);
    const { context, page, problems } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/setup/accounts`);
    const row = page.locator("table.setup-list tr").filter({ has: page.getByRole("cell", { name: "editme", exact: true }) });
    await Promise.all([page.waitForURL(/\/setup\/accounts\/edit\?name=editme$/), row.getByRole("link", { name: "edit" }).click()]);
    // What is stored, in the form.
    const values = async () => Object.fromEntries(await Promise.all(["per_minute", "per_day", "recipients_per_day", "over_limit", "hold_backlog", "list_unsubscribe", "require_alignment"].map(async (n) => [n, await page.inputValue(`#f-accounts-${n}`)])));
    expect(await values()).toEqual({ per_minute: "100", per_day: "5000", recipients_per_day: "", over_limit: "refuse", hold_backlog: "", list_unsubscribe: "off", require_alignment: "no" });

    // A bad value: said next to the form, what was typed kept, nothing saved.
    await page.$eval("form.setup-form", (f) => f.setAttribute("novalidate", ""));
    await page.fill("#f-accounts-per_minute", "0");
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/dashboard/setup/accounts/edit") && r.request().method() === "POST"), page.click("form.setup-form button[type=submit]")]);
    expect(refused.status()).toBe(400);
    expect(await page.locator("#setup-error").textContent()).toBe("Messages per minute must be at least 1");
    expect(await page.inputValue("#f-accounts-per_minute")).toBe("0");
    expect((await json(["account", "list"])).find((a) => a.name === "editme")).toMatchObject({ per_minute: 100, per_day: 5000 });

    // Saved: one a minute, the daily limit emptied (removed), one-click List-Unsubscribe on.
    await page.fill("#f-accounts-per_minute", "1");
    await page.fill("#f-accounts-per_day", "");
    await page.selectOption("#f-accounts-list_unsubscribe", "one-click");
    await Promise.all([page.waitForURL(/\/setup\/accounts\?done=/), page.click("form.setup-form button[type=submit]")]);
    expect(await page.locator(".flash").first().textContent()).toBe("account editme saved: 1 per minute, none per day, none recipients per day, over the limits: refuse");
    expect((await json(["account", "list"])).find((a) => a.name === "editme")).toMatchObject({ per_minute: 1, per_day: null, recipients_per_day: null, over_limit: "refuse", list_unsubscribe: "one-click", require_alignment: false });
    // And it holds: the second message in the minute is refused.
    const message = { from: "app@example.com", to: ["someone@dest.test"], subject: "under an edited limit", text: "hi" };
    expect((await postMessage(relay.http, key, message)).status).toBe(202);
    expect((await postMessage(relay.http, key, message)).status).toBe(429);

    // An account that is not there: back to the list, saying so.
    await Promise.all([page.waitForURL(/done=/), page.goto(`${relay.http}/dashboard/setup/accounts/edit?name=nope`)]);
    expect(await page.locator(".flash").first().textContent()).toBe('no account named "nope"');
    expect(problems).toEqual([]);
    await context.close();
  });

  test("an SMTP credential's generated password is shown once, logs in over smtplib, and stops when removed", async () => {
    await account("creds");
    const { context, page, problems } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/setup/credentials`);
    expect(await submit(page, "credentials", { account: "creds", username: "app1" })).toBe(200);
    const password = (await page.locator(".secret-value").textContent())!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(await listText(page)).toContain("app1");
    expect(await listText(page)).not.toContain(password);
    expect(await smtplibLogin(relay.smtpPort, "app1", password)).toBe(235);
    await page.reload();
    expect(await page.content()).not.toContain(password);
    expect((await json(["credential", "list"])).find((c) => c.username === "app1")).toMatchObject({ account: "creds" });

    // Rotated: a new password shown once, the old one refused at once.
    expect(await rowButton(page, "credentials", "app1", "rotate")).toBe(200);
    const rotated = (await page.locator(".secret-value").textContent())!;
    expect(rotated.length).toBeGreaterThanOrEqual(16);
    expect(rotated).not.toBe(password);
    expect(await page.locator("#setup .flash").textContent()).toBe("credential app1: new password; the old one no longer works");
    expect(await smtplibLogin(relay.smtpPort, "app1", password)).toBe(535);
    expect(await smtplibLogin(relay.smtpPort, "app1", rotated)).toBe(235);
    await page.reload();
    expect(await page.content()).not.toContain(rotated);
    expect(relay.logs()).not.toContain(rotated);

    expect(await removeRow(page, "app1")).toBe("credential app1 removed");
    expect(await smtplibLogin(relay.smtpPort, "app1", rotated)).toBe(535);
    expect(relay.logs()).not.toContain(password);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("an API key is shown once, sends mail as its account's allowed sender, and is refused once revoked", async () => {
    await account("keyed");
    const { context, page, problems } = await loggedIn();
    // The sender rule first, made on its own page.
    await page.goto(`${relay.http}/dashboard/setup/senders`);
    expect(await submit(page, "senders", { account: "keyed", pattern: "not a pattern" })).toBe(400);
    expect(await page.locator("#setup-error").textContent()).toContain("is not a sender pattern");
    expect(await submit(page, "senders", { account: "keyed", pattern: "*@Shop.Example" })).toBe(200);
    expect(await listText(page)).toContain("*@shop.example");
    expect(await json(["sender", "list", "keyed"])).toEqual([{ account: "keyed", pattern: "*@shop.example" }]);

    await page.goto(`${relay.http}/dashboard/setup/keys`);
    expect(await submit(page, "keys", { account: "keyed" })).toBe(200);
    const key = (await page.locator(".secret-value").textContent())!;
    expect(key).toMatch(/^sh_/);
    const id = /^sh_([^_]+)_/.exec(key)![1]!;
    expect(await listText(page)).toContain(id);
    expect(await listText(page)).not.toContain(key);
    const message = { from: "app@shop.example", to: ["someone@dest.test"], subject: "from a key made on the dashboard", text: "hi" };
    expect((await postMessage(relay.http, key, message)).status).toBe(202);
    expect((await postMessage(relay.http, key, { ...message, from: "app@elsewhere.example" })).status).toBe(403);
    await page.reload();
    expect(await page.content()).not.toContain(key);

    expect(await removeRow(page, id, "revoke")).toBe(`API key ${id} revoked`);
    expect((await postMessage(relay.http, key, message)).status).toBe(401);
    await page.goto(`${relay.http}/dashboard/setup/senders`);
    expect(await removeRow(page, "*@shop.example")).toBe("keyed may no longer send as *@shop.example");
    expect(await json(["sender", "list", "keyed"])).toEqual([]);
    expect(relay.logs()).not.toContain(key);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a trusted network is added, refused when not a CIDR, and removed", async () => {
    await account("office");
    const { context, page, problems } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/setup/networks`);
    expect(await submit(page, "networks", { account: "office", cidr: "192.0.2.300/24" })).toBe(400);
    expect(await page.locator("#setup-error").textContent()).toBe('"192.0.2.300/24" is not an address or network (CIDR)');
    expect(await submit(page, "networks", { account: "office", cidr: "198.51.100.0/24" })).toBe(200);
    expect(await listText(page)).toContain("198.51.100.0/24");
    expect(await json(["network", "list"])).toEqual([{ account: "office", cidr: "198.51.100.0/24" }]);
    expect(await removeRow(page, "198.51.100.0/24")).toBe("198.51.100.0/24 no longer trusted for office");
    expect(await json(["network", "list"])).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a route with credentials carries mail to the upstream, is listed masked, never shows its password, and is removed", async () => {
    await account("routed");
    const key = (await admin("POST", "/keys", { account: "routed" })).body.key as string;
    expect((await admin("POST", "/senders", { account: "routed", pattern: "example.com" })).status).toBe(201);
    const { context, page, problems } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/setup/routes`);
    const url = `smtp://${ROUTE_USER}:${ROUTE_PASSWORD}@127.0.0.1:${upstream.port}?tls=required`;
    expect(await submit(page, "routes", { domain: "routed.test", url: `ftp://${ROUTE_USER}:${ROUTE_PASSWORD}@127.0.0.1` })).toBe(400);
    expect(await page.locator("#setup-error").textContent()).toContain("is not a route");
    expect(await page.content()).not.toContain(ROUTE_PASSWORD);
    expect(await page.inputValue("#f-routes-url")).toBe("");
    expect(await submit(page, "routes", { domain: "routed.test", url, per_minute: "600" })).toBe(200);
    const masked = `smtp://***@127.0.0.1:${upstream.port}?tls=required`;
    expect(await page.locator("#setup .flash").textContent()).toBe(`route 1 for routed.test: ${masked}`);
    expect(await listText(page)).toContain(masked);
    expect(await page.content()).not.toContain(ROUTE_PASSWORD);
    expect((await json(["route", "list"])).find((r) => r.domain === "routed.test")).toMatchObject({ url: masked, per_minute: 600 });

    const res = await postMessage(relay.http, key, { from: "app@example.com", to: ["bob@routed.test"], subject: "through a route made on the dashboard", text: "hi" });
    expect(res.status).toBe(202);
    const got = await waitFor("delivery through the new route", () => upstream.received.find((m) => m.rcptTo.includes("bob@routed.test")));
    expect(got.user).toBe(ROUTE_USER);

    await page.reload();
    expect(await page.content()).not.toContain(ROUTE_PASSWORD);

    // Its quota edited: the form holds what is stored; an emptied field removes that limit.
    const row = page.locator("table.setup-list tr").filter({ has: page.getByRole("cell", { name: masked, exact: true }) });
    await Promise.all([page.waitForURL(/\/setup\/routes\/edit\?/), row.getByRole("link", { name: "edit" }).click()]);
    expect([await page.inputValue("#f-routes-per_second"), await page.inputValue("#f-routes-per_minute"), await page.inputValue("#f-routes-per_day")]).toEqual(["", "600", ""]);
    expect(await page.content()).not.toContain(ROUTE_PASSWORD);
    await page.fill("#f-routes-per_minute", "");
    await page.fill("#f-routes-per_day", "20000");
    await Promise.all([page.waitForURL(/\/setup\/routes\?done=/), page.click("form.setup-form button[type=submit]")]);
    expect(await page.locator(".flash").first().textContent()).toBe(`route routed.test ${masked}: quota none a second, none a minute, 20000 a day`);
    expect((await json(["route", "list"])).find((r) => r.domain === "routed.test")).toMatchObject({ url: masked, per_second: null, per_minute: null, per_day: 20000 });

    expect(await removeRow(page, masked)).toContain(`route routed.test ${masked} removed`);
    expect((await json(["route", "list"])).filter((r) => r.domain === "routed.test")).toEqual([]);
    expect(relay.logs()).not.toContain(ROUTE_PASSWORD);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a DKIM key shows the record to publish and whether DNS has it, then that DNS does, and is removed", async () => {
    const { context, page, problems } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/setup/dkim`);
    expect(await submit(page, "dkim", { domain: "not a domain" })).toBe(400);
    expect(await page.locator("#setup-error").textContent()).toBe('"not a domain" is not a domain name');
    expect(await submit(page, "dkim", { domain: "signed.example", selector: "s1", algorithm: "ed25519" })).toBe(200);
    const record = (await page.locator("pre.record").textContent())!;
    expect(record).toStartWith("s1._domainkey.signed.example");
    expect(record).toContain("k=ed25519");
    const row = page.locator('.domain-report tr[data-check="dkim"]');
    expect(await row.textContent()).toContain("✗ not yet");
    expect((await json(["dkim", "list"])).find((k) => k.selector === "s1")).toMatchObject({ domain: "signed.example", algorithm: "ed25519", state: "active", record });

    // Rotated: a new selector of the same algorithm, pending until its record is published, the record shown.
    expect(await rowButton(page, "dkim", "s1", "rotate")).toBe(200);
    const flash = (await page.locator("#setup .flash").textContent())!;
    const pending = /^DKIM (sh\d{8}) \(ed25519\) made, pending until published, for signed\.example$/.exec(flash)?.[1];
    expect([flash, pending]).toEqual([flash, expect.any(String)]);
    expect(await page.locator("pre.record").textContent()).toStartWith(`${pending}._domainkey.signed.example`);
    // Read through the relay (its resolver is the test's DNS: a pending key's record is looked up there).
    const keys = (await admin("GET", "/dkim?domain=signed.example")).body as { selector: string; state: string }[];
    expect(keys.map((k) => [k.selector, k.state]).sort()).toEqual([["s1", "active"], [pending!, "pending"]]);

    // A second key, made where nothing looks it up (the relay's resolver keeps a negative
    // answer), published, then the page's check (a link in the list) finds it.
    const [second] = (await admin("POST", "/dkim", { domain: "signed.example", selector: "s2", algorithm: "ed25519" })).body as { record: string }[];
    zone.txt!["s2._domainkey.signed.example"] = [[[...second!.record.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join("")]];
    await Promise.all([page.waitForURL(/check=signed\.example/), page.click('table.setup-list a[href$="check=signed.example"] >> nth=0')]);
    expect(await page.locator(".domain-report tr").filter({ has: page.getByRole("cell", { name: "DKIM s2", exact: true }) }).textContent()).toContain("✓ published");

    expect(await removeRow(page, "s1")).toContain("DKIM s1 of signed.example removed");
    expect(await removeRow(page, "s2")).toContain("DKIM s2 of signed.example removed");
    expect(await removeRow(page, pending!)).toContain(`DKIM ${pending} of signed.example removed`);
    expect(await json(["dkim", "list"])).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a webhook's secret is shown once and signs what it receives; suppressions are added and removed", async () => {
    await account("hooked");
    const { context, page, problems } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/setup/webhooks`);
    expect(await submit(page, "webhooks", { account: "hooked", url: receiver.url, events: ["suppression.added", "suppression.removed"] })).toBe(200);
    const secret = (await page.locator(".secret-value").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    expect(await listText(page)).toContain("suppression.added, suppression.removed");
    const [hook] = await json(["webhook", "list"]);
    expect(hook).toMatchObject({ account: "hooked", url: receiver.url, events: ["suppression.added", "suppression.removed"] });
    await page.reload();
    expect(await page.content()).not.toContain(secret);

    await page.goto(`${relay.http}/dashboard/setup/suppressions`);
    expect(await submit(page, "suppressions", { account: "hooked", address: "not an address" })).toBe(400);
    expect(await submit(page, "suppressions", { account: "hooked", address: "Bob@Example.org" })).toBe(200);
    expect((await json(["suppression", "list", "hooked"])).map((s) => [s.address, s.reason])).toEqual([["bob@example.org", "manual"]]);
    const added = await waitFor("suppression.added delivered", () => receiver.received.find((h) => h.body.includes("suppression.added")));
    // Signed with the secret the page showed (Standard Webhooks).
    expect((new Webhook(secret).verify(added.body, added.headers) as { type: string }).type).toBe("suppression.added");
    expect(await removeRow(page, "bob@example.org")).toBe("bob@example.org removed from hooked's suppressions");
    expect(await json(["suppression", "list", "hooked"])).toEqual([]);

    // Rotated: a new secret shown once; what is sent next is signed with it (and, for a day, with the old one too).
    await page.goto(`${relay.http}/dashboard/setup/webhooks`);
    expect(await rowButton(page, "webhooks", hook!.id as string, "rotate")).toBe(200);
    const rotated = (await page.locator(".secret-value").textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page.reload();
    expect(await page.content()).not.toContain(rotated);
    await page.goto(`${relay.http}/dashboard/setup/suppressions`);
    expect(await submit(page, "suppressions", { account: "hooked", address: "carol@example.org" })).toBe(200);
    const next = await waitFor("the next suppression.added delivered", () => receiver.received.find((h) => h.body.includes("carol@example.org")));
    expect((new Webhook(rotated).verify(next.body, next.headers) as { type: string }).type).toBe("suppression.added");
    expect(await removeRow(page, "carol@example.org")).toBe("carol@example.org removed from hooked's suppressions");

    await page.goto(`${relay.http}/dashboard/setup/webhooks`);
    expect(await removeRow(page, hook!.id as string)).toBe(`webhook ${hook!.id} removed`);
    expect(await json(["webhook", "list"])).toEqual([]);
    expect(relay.logs()).not.toContain(secret);
    expect(relay.logs()).not.toContain(rotated);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("setup pages for everyone", () => {
  test("every field has a label, and at 420 px wide nothing makes the page scroll sideways", async () => {
    await account("narrow");
    expect((await admin("POST", "/senders", { account: "narrow", pattern: "*@a-rather-long-domain-name-for-a-narrow-screen.example" })).status).toBe(201);
    const { context, page, problems } = await loggedIn({ width: 420, height: 900 });
    for (const slug of ["accounts", "accounts/edit?name=narrow", "credentials", "keys", "senders", "networks", "routes", "dkim", "suppressions", "webhooks"]) {
      await page.goto(`${relay.http}/dashboard/setup/${slug}`);
      const unlabeled = await page.evaluate('[...document.querySelectorAll("form.setup-form input:not([type=hidden]), form.setup-form select")].filter((el) => el.labels.length === 0).map((el) => el.name)');
      expect([slug, unlabeled]).toEqual([slug, []]);
      const wide = (await page.evaluate('({ page: document.documentElement.scrollWidth, form: document.querySelector("form.setup-form").getBoundingClientRect().right })')) as { page: number; form: number };
      expect([slug, wide.page <= 420, wide.form <= 420]).toEqual([slug, true, true]);
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a create form posted without the session's CSRF token makes nothing; with it, the account is made", async () => {
    const { context, page } = await loggedIn();
    await page.goto(`${relay.http}/dashboard/setup/accounts`);
    const csrf = await page.inputValue('form.setup-form input[name="_csrf"]');
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const post = (body: string) => fetch(`${relay.http}/dashboard/setup/accounts`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body, redirect: "manual" });
    expect((await post("name=forged")).status).toBe(403);
    expect((await json(["account", "list"])).map((a) => a.name)).not.toContain("forged");
    // The same form with the token, as the page posts it without script: the whole page answers.
    const made = await post(`_csrf=${encodeURIComponent(csrf)}&name=forged`);
    expect(made.status).toBe(200);
    expect(await made.text()).toContain("account forged created");
    expect((await json(["account", "list"])).map((a) => a.name)).toContain("forged");
    await page.close();
    await context.close();
  });
});
