/**
 * DNS rebinding against the webhook sender: a name that answers one address to the check and
 * another to the connection. A real DNS server on loopback changes its answer after the first
 * query; the webhook goes to the address that was checked or nowhere, never to the rebound
 * one, and the attempt a tenant reads does not say what the name resolved to.
 *
 * Everything stays on loopback: where the checked answer is a public address, the POST is
 * recorded by a stub given the addresses it would connect to; where the real connector runs,
 * SMARTHOST_ALLOW_PRIVATE_WEBHOOKS' mode lets 127.0.0.2 play the checked address and
 * 127.0.0.1 the rebound one.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { Resolver } from "node:dns/promises";
import { join } from "node:path";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { appendEvent } from "../../../src/events/append.ts";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { pinnedPost } from "../../../src/runtime/node-webhook-post.ts";
import { createSecretBox, generateSecretKey, type SecretBox } from "../../../src/secrets/cipher.ts";
import { addEndpoint } from "../../../src/webhooks/endpoints.ts";
import { WebhookSender, type FetchLike, type PinnedPost } from "../../../src/webhooks/sender.ts";
import { startDns, type DnsServer } from "../../support/dns-server.ts";
import { removeDir, tempDir } from "../../support/relay.ts";
import { startPair, type ServerPair } from "../../support/loopback-pair.ts";

const PUBLIC = "93.184.216.34";

let dir = "";
let client: Client;
let writer: GroupCommit;
let box: SecretBox;
let dns: DnsServer | undefined;
let pair: ServerPair | undefined;
let logged: { event: string; fields: Record<string, unknown> }[] = [];
/** Every POST that went through fetch, which resolves the name again by itself. */
let unpinned: string[] = [];

beforeEach(async () => {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "w.db")}` });
  await applyMigrations(client);
  await client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('acct', 'acme', 0)");
  writer = new GroupCommit(client);
  box = await createSecretBox(generateSecretKey());
  logged = [];
  unpinned = [];
});
afterEach(async () => {
  await dns?.close();
  await pair?.stop();
  dns = undefined;
  pair = undefined;
  client?.close();
  if (dir) removeDir(dir);
});

/** A DNS server on loopback whose A answer for `name` is `answers[i]` at the i-th query (the last one after that). */
async function rebindingDns(name: string, answers: string[]): Promise<{ resolveHost: (host: string) => Promise<string[]>; queries: () => number }> {
  let queries = 0;
  dns = await startDns({
    a: {
      get [name]() {
        return [answers[Math.min(queries++, answers.length - 1)]!];
      },
    },
  });
  const resolver = new Resolver();
  resolver.setServers([dns.address]);
  return { resolveHost: (host) => resolver.resolve4(host), queries: () => queries };
}

const fetchUnpinned: FetchLike = async (url) => {
  unpinned.push(url);
  return new Response("ok");
};

function sender(network: { resolveHost: (host: string) => Promise<string[]>; post: PinnedPost }, allowPrivate: boolean, unpinnedFetch = fetchUnpinned): WebhookSender {
  return new WebhookSender({
    sql: client,
    writer,
    secrets: box,
    log: (event, fields) => logged.push({ event, fields }),
    network,
    fetch: unpinnedFetch,
    config: { allowPrivate, pollMs: 10, retrySeconds: [0, 0] },
  });
}

async function hookFor(url: string, allowPrivate: boolean): Promise<void> {
  await writer.write((sql) => addEndpoint(sql, box, "acct", { url }, allowPrivate, Date.now()));
  await writer.write((sql) => appendEvent(sql, { accountId: "acct", type: "message.delivered", messageId: "M1", data: { message_id: "M1", recipient: "a@b.test" }, now: Date.now() }));
}

const attempts = async () => (await client.execute("SELECT status, response FROM webhook_attempts ORDER BY id")).rows.map((r) => ({ status: r.status, response: String(r.response) }));

test("the POST is pinned to the address the check saw; the name is not resolved again", async () => {
  const dnsAnswers = await rebindingDns("hooks.rebind.test", [PUBLIC, "127.0.0.1"]);
  const posted: { url: string; addresses: readonly string[] }[] = [];
  const post: PinnedPost = async (url, _init, addresses) => {
    posted.push({ url, addresses });
    return new Response("ok");
  };
  await hookFor("https://hooks.rebind.test/in", false);
  expect(await sender({ resolveHost: dnsAnswers.resolveHost, post }, false).drainOnce()).toBe(1);
  expect(posted).toEqual([{ url: "https://hooks.rebind.test/in", addresses: [PUBLIC] }]);
  expect(unpinned).toEqual([]);
  // One answer, checked and used: the second (127.0.0.1) was never asked for.
  expect(dnsAnswers.queries()).toBe(1);
  expect(await attempts()).toEqual([{ status: 200, response: "ok" }]);
});

test("once the name answers 127.0.0.1 the attempt is refused, and its text does not say so", async () => {
  const dnsAnswers = await rebindingDns("hooks.rebind.test", ["127.0.0.1"]);
  const posted: string[] = [];
  await hookFor("https://hooks.rebind.test/in", false);
  await sender({ resolveHost: dnsAnswers.resolveHost, post: async (url) => (posted.push(url), new Response("ok")) }, false).drainOnce();
  expect(posted).toEqual([]);
  expect(unpinned).toEqual([]);
  const [attempt] = await attempts();
  expect(attempt).toEqual({ status: null, response: "hooks.rebind.test resolves to a non-public address; refused" });
  expect(attempt!.response).not.toContain("127.0.0.1");
  // The operator's log says which address it was.
  expect(logged.find((l) => l.event === "webhook_destination_refused")?.fields).toMatchObject({ addresses: ["127.0.0.1"] });
});

test("over real connections the webhook reaches the resolved address, not the one the name rebinds to", async () => {
  // "localhost" is 127.0.0.1 to the system's resolver (the rebound server); the test's DNS
  // answers 127.0.0.2 (the checked server) once, then 127.0.0.1 too.
  pair = await startPair();
  const dnsAnswers = await rebindingDns("localhost", ["127.0.0.2", "127.0.0.1"]);
  await hookFor(`http://localhost:${pair.port}/in`, true);
  // Were the request made by fetch, it would resolve "localhost" again, and reach 127.0.0.1.
  const realFetch: FetchLike = (url, init) => (unpinned.push(url), fetch(url, init));
  expect(await sender({ resolveHost: dnsAnswers.resolveHost, post: pinnedPost() }, true, realFetch).drainOnce()).toBe(1);
  expect(pair.checked.map((r) => r.path)).toEqual(["/in"]);
  expect(pair.rebound).toEqual([]);
  expect(unpinned).toEqual([]);
  expect(dnsAnswers.queries()).toBe(1);
  expect(await attempts()).toEqual([{ status: 200, response: "checked" }]);
});
