/** Suppression entries in a real libSQL file: expiry, wildcards, which entry wins. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { activeSuppressions, addBounceSuppression, addSuppression, normalizeSuppressionAddress } from "../../../src/suppression/store.ts";
import { BOUNCE_SUPPRESSION_MS } from "../../../src/suppression/policy.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir = "";
let client: Client;
const T0 = 1_800_000_000_000;
const reply = { code: 550, enhanced: "5.1.1", text: "no such user" };

beforeEach(async () => {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "s.db")}` });
  await applyMigrations(client);
  await client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('A', 'acme', 0), ('B', 'other', 0)");
});
afterEach(() => {
  client?.close();
  removeDir(dir);
});

const bounce = (address: string, now: number, messageId = "M1") => addBounceSuppression(client, { accountId: "A", account: "acme", address, messageId, reply, now });
const active = async (address: string, now: number) => (await activeSuppressions(client, "A", [address], now)).get(address.toLowerCase()) ?? null;
const added = async () => Number((await client.execute("SELECT count(*) AS n FROM account_events WHERE type = 'suppression.added'")).rows[0]!.n);

test("a bounce entry lasts 30 days; a new bounce renews it without a second event; expired, a bounce starts it anew", async () => {
  await bounce("Gone@Dest.test", T0);
  expect(await active("gone@dest.test", T0 + BOUNCE_SUPPRESSION_MS - 1)).toMatchObject({ reason: "bounce", createdAt: T0, expiresAt: T0 + BOUNCE_SUPPRESSION_MS });
  expect(await active("gone@dest.test", T0 + BOUNCE_SUPPRESSION_MS)).toBeNull();
  await bounce("gone@dest.test", T0 + 1000, "M2");
  expect(await active("gone@dest.test", T0 + BOUNCE_SUPPRESSION_MS)).toMatchObject({ createdAt: T0, messageId: "M2" });
  expect(await added()).toBe(1);
  const later = T0 + 2 * BOUNCE_SUPPRESSION_MS;
  await bounce("gone@dest.test", later, "M3");
  expect(await active("gone@dest.test", later)).toMatchObject({ createdAt: later, messageId: "M3" });
  expect(await added()).toBe(2);
});

test("manual entries never expire and a bounce does not turn them into bounce entries", async () => {
  await addSuppression(client, "A", "acme", "keep@dest.test", "manual", T0);
  await bounce("keep@dest.test", T0 + 1);
  expect(await active("keep@dest.test", T0 + 10 * BOUNCE_SUPPRESSION_MS)).toMatchObject({ reason: "manual", expiresAt: null });
});

test("*@domain covers every address there, for its account only", async () => {
  await addSuppression(client, "A", "acme", "*@spam.test", "complaint", T0);
  expect(await active("Anyone@SPAM.test", T0)).toMatchObject({ address: "*@spam.test", reason: "complaint" });
  expect(await active("anyone@notspam.test", T0)).toBeNull();
  expect((await activeSuppressions(client, "B", ["anyone@spam.test"], T0)).size).toBe(0);
});

test("addresses are normalized; what is neither an address nor *@domain is refused", () => {
  expect(normalizeSuppressionAddress(" Bob@Example.COM ")).toBe("bob@example.com");
  expect(normalizeSuppressionAddress("*@example.com")).toBe("*@example.com");
  for (const bad of ["", "bob", "@example.com", "bob@", "a*b@example.com", "bob@exa mple.com", "<bob@example.com>"]) expect(normalizeSuppressionAddress(bad)).toBeNull();
});
