/**
 * The operator's suppression, webhook and domain-check verbs over the admin API, on a
 * running relay: across accounts, the same rules and errors as the CLI, acting at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import { adminClient, postMessage, type ApiAnswer } from "../support/api.ts";
import { startDns, type DnsServer, type Zone } from "../support/dns-server.ts";
import { addTenant, cli, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";
import { waitFor } from "../support/wait.ts";

const TOKEN = "admin-token-for-feedback-0123456789abcdef";
const zone: Required<Pick<Zone, "txt" | "mx">> = { txt: { "example.com": [["v=spf1 ip4:192.0.2.10 -all"]], "_dmarc.example.com": [["v=DMARC1; p=reject"]] }, mx: {} };

let dir: string;
let relay: Relay;
let tenant: Tenant;
let dns: DnsServer;
let receiver: Receiver;

beforeAll(async () => {
  dns = await startDns(zone);
  receiver = startReceiver();
  dir = tempDir();
  tenant = await addTenant(dir);
  await addTenant(dir, { account: "other", username: "olga" });
  // Mail only defers (nothing listens there): no bounce adds suppressions of its own.
  await cliOk(dir, ["route", "add", "*", "smtp://127.0.0.1:9?tls=none"]);
  relay = await startRelay(dir, {
    SMARTHOST_ADMIN_TOKEN: TOKEN,
    SMARTHOST_DNS_SERVERS: dns.address,
    SMARTHOST_SENDING_IPS: "192.0.2.10",
    SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true",
    // Delivery nodes send the webhooks.
    SMARTHOST_DELIVERY: "true",
    SMARTHOST_DELIVERY_POLL_MS: "100",
  });
});
afterAll(async () => {
  await relay?.stop();
  await receiver?.stop();
  await dns?.close();
  if (dir) removeDir(dir);
});

const admin = adminClient(() => relay.http, TOKEN);

const send = (to: string[], key = tenant.apiKey) =>
  postMessage(relay.http, key, { from: "alice@example.com", to, subject: "s", text: "t" }).then(async (r): Promise<ApiAnswer> => ({ status: r.status, body: await r.json() }));

describe("suppressions across accounts", () => {
  test("add refuses mail to the address for that account only; list shows every account's; remove sends again", async () => {
    expect(await admin("POST", "/suppressions", { account: "acme", address: "Bob@Example.ORG" })).toEqual({ status: 201, body: { account: "acme", address: "bob@example.org" } });
    await admin("POST", "/suppressions", { account: "other", address: "*@blocked.test" });
    expect((await send(["bob@example.org", "carol@example.org"])).body.suppressed).toEqual(["bob@example.org"]);
    const others = await cliOk(dir, ["key", "add", "other"]);
    expect((await send(["bob@example.org"], others)).body.suppressed).toEqual([]);

    const all = (await admin("GET", "/suppressions")).body;
    expect(all.map((r: { account: string; address: string; reason: string }) => [r.account, r.address, r.reason]).sort()).toEqual([
      ["acme", "bob@example.org", "manual"],
      ["other", "*@blocked.test", "manual"],
    ]);
    expect((await admin("GET", "/suppressions?account=other")).body).toHaveLength(1);
    // The CLI lists the same entries.
    expect(JSON.parse((await cli(dir, ["suppression", "list", "--json"])).stdout)).toEqual(all);

    expect(await admin("POST", "/suppressions/remove", { account: "acme", address: "bob@example.org" })).toEqual({ status: 200, body: { account: "acme", address: "bob@example.org" } });
    expect((await send(["bob@example.org"])).body.suppressed).toEqual([]);
    expect(await admin("POST", "/suppressions/remove", { account: "acme", address: "bob@example.org" })).toEqual({ status: 404, body: { error: { code: "not_found", message: "bob@example.org is not on the suppression list of acme" } } });
    expect(await admin("POST", "/suppressions", { account: "nope", address: "x@y.test" })).toEqual({ status: 404, body: { error: { code: "not_found", message: 'no account named "nope"' } } });
    expect((await admin("POST", "/suppressions", { account: "acme", address: "not an address" })).status).toBe(400);
    expect((await admin("GET", "/suppressions?account=nope")).status).toBe(404);
  });
});

describe("webhooks across accounts", () => {
  test("add returns the secret once and the relay signs with it; rotate's secret signs next; remove stops them", async () => {
    const added = await admin("POST", "/webhooks", { account: "acme", url: receiver.url, events: ["suppression.added"] });
    expect(added.status).toBe(201);
    const { id, secret } = added.body as { id: string; secret: string };
    expect(secret).toStartWith("whsec_");
    const listed = (await admin("GET", "/webhooks?account=acme")).body;
    expect(listed).toEqual([expect.objectContaining({ id, account: "acme", url: receiver.url, events: ["suppression.added"], enabled: true })]);
    expect(JSON.stringify(listed)).not.toContain(secret.slice(6));

    await admin("POST", "/suppressions", { account: "acme", address: "first@example.org" });
    const first = await waitFor("the first webhook", () => receiver.received.find((h) => h.body.includes("first@example.org")));
    expect(new Webhook(secret).verify(first.body, first.headers)).toMatchObject({ type: "suppression.added", data: { account: "acme", address: "first@example.org" } });

    const rotated = await admin("POST", `/webhooks/${id}/rotate`);
    expect(rotated.body.id).toBe(id);
    expect(rotated.body.secret).not.toBe(secret);
    await admin("POST", "/suppressions", { account: "acme", address: "second@example.org" });
    const second = await waitFor("the second webhook", () => receiver.received.find((h) => h.body.includes("second@example.org")));
    expect(new Webhook(rotated.body.secret).verify(second.body, second.headers)).toMatchObject({ type: "suppression.added" });

    expect(await admin("DELETE", `/webhooks/${id}`)).toEqual({ status: 200, body: { id } });
    expect((await admin("GET", "/webhooks")).body).toEqual([]);
    expect((await admin("DELETE", `/webhooks/${id}`)).status).toBe(404);
    expect((await admin("POST", `/webhooks/${id}/rotate`)).status).toBe(404);
  });

  test("the CLI's rules: a URL that is not one, an unknown event type, an unknown account", async () => {
    expect((await admin("POST", "/webhooks", { account: "acme", url: "ftp://x" })).body.error.code).toBe("invalid");
    expect((await admin("POST", "/webhooks", { account: "acme", url: receiver.url, events: ["message.nope"] })).status).toBe(400);
    expect((await admin("POST", "/webhooks", { account: "nope", url: receiver.url })).status).toBe(404);
    expect((await admin("POST", "/webhooks", { account: "acme", url: receiver.url, secret: "mine" })).body.error).toMatchObject({ code: "invalid_field", field: "secret" });
  });
});

describe("domain check", () => {
  test("GET /v1/admin/domains/{domain} gives the report domain check --json prints, for any domain", async () => {
    const api = await admin("GET", "/domains/example.com");
    expect(api.status).toBe(200);
    const viaCli = JSON.parse((await cli(dir, ["domain", "check", "example.com", "--json"], { SMARTHOST_DNS_SERVERS: dns.address, SMARTHOST_SENDING_IPS: "192.0.2.10" })).stdout);
    expect(api.body).toEqual(viaCli);
    expect(api.body.checks.map((c: { check: string; ok: boolean }) => `${c.check} ${c.ok}`)).toEqual(["spf true", "dkim false", "dmarc true", "mta-sts false", "tls-rpt false"]);
    // Not one of an account's sender domains: the operator may check it all the same.
    expect((await admin("GET", "/domains/unrelated.test")).body.domain).toBe("unrelated.test");
    expect(await admin("GET", "/domains/not_a_domain")).toEqual({ status: 400, body: { error: { code: "invalid", message: '"not_a_domain" is not a domain name' } } });
  });
});
