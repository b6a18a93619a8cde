import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { activateDkimKey, addDkimKey, listDkimKeys, removeDkimKey, rotateDkimKey, type DkimAdminDeps } from "../../../src/admin/dkim.ts";
import type { Database } from "../../../src/db/client.ts";
import { createDkimSigner } from "../../../src/dkim/signer.ts";
import { openDatabase } from "../../../src/runtime/bun-db.ts";
import { createSecretBox, generateSecretKey, type SecretBox } from "../../../src/secrets/cipher.ts";
import { removeDir, tempDir } from "../../support/relay.ts";
import { waitFor } from "../../support/wait.ts";
import { Failure } from "../../../src/core/failure.ts";

let dir = "";
let database: Database;
let box: SecretBox;
let opened = 0;
let deps: DkimAdminDeps;

beforeEach(async () => {
  dir = tempDir();
  database = await openDatabase(`file:${join(dir, "d.db")}`);
  const real = await createSecretBox(generateSecretKey());
  opened = 0;
  box = { ...real, open: (s, p) => (opened++, real.open(s, p)) };
  deps = { db: database.db, secrets: box };
});
afterEach(() => {
  database?.close();
  if (dir) removeDir(dir);
});

const msg = (from: string) => new TextEncoder().encode(`From: ${from}\r\nSubject: s\r\n\r\nbody\r\n`);
/** The s= of each signature the signer added. */
const selectors = (signed: Uint8Array) => [...new TextDecoder().decode(signed).matchAll(/^DKIM-Signature:[\s\S]*?\bs=([^;]+);/gm)].map((m) => m[1]);

describe("which key signs", () => {
  test("the From: domain's active key, opened once for many messages; other domains unsigned", async () => {
    await addDkimKey(deps, "Example.COM", { selector: "one" });
    const signer = createDkimSigner({ db: database.db, secrets: box });
    for (let i = 0; i < 3; i++) expect(selectors(await signer.sign(msg("a@example.com"), ["a@example.com"]))).toEqual(["one"]);
    expect(opened).toBe(1);
    const other = msg("a@other.test");
    expect(await signer.sign(other, ["a@other.test"])).toBe(other);
  });

  test("a subdomain is signed by its parent's key unless it has its own; both algorithms sign twice", async () => {
    await addDkimKey(deps, "example.com", { selector: "p", algorithm: "both" });
    const signer = createDkimSigner({ db: database.db, secrets: box });
    expect(selectors(await signer.sign(msg("a@mail.example.com"), ["a@mail.example.com"]))).toEqual(["p-rsa", "p-ed25519"]);
    await addDkimKey(deps, "mail.example.com", { selector: "own", algorithm: "ed25519" });
    const fresh = createDkimSigner({ db: database.db, secrets: box });
    expect(selectors(await fresh.sign(msg("a@mail.example.com"), ["a@mail.example.com"]))).toEqual(["own"]);
  });
});

describe("rotation", () => {
  test("a rotated selector waits for its DNS record; then it signs and the old one is retired but listed", async () => {
    await addDkimKey(deps, "example.com", { selector: "old" });
    const [made] = await rotateDkimKey(deps, "example.com", { selector: "new" });
    expect(made!.state).toBe("pending");
    const published: Record<string, string[][]> = {};
    let t = 1_000_000;
    const signer = createDkimSigner({ db: database.db, secrets: box, lookupTxt: async (name) => published[name] ?? Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" })), now: () => t });
    expect(selectors(await signer.sign(msg("a@example.com"), ["a@example.com"]))).toEqual(["old"]);
    // Published as the CLI printed it: the record split into 255-character strings.
    const record = [...made!.record.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    published["new._domainkey.example.com"] = [record];
    t += 61_000;
    // The record is looked for in the background; the new key signs from the next reload.
    await waitFor("the new selector signing", async () => {
      t += 6_000;
      const s = selectors(await signer.sign(msg("a@example.com"), ["a@example.com"]));
      return s[0] === "new" || undefined;
    });
    const states = Object.fromEntries((await listDkimKeys(deps)).map((k) => [k.selector, k.state]));
    expect(states).toEqual({ new: "active", old: "retired" });
  });

  test("--activate signs at once; a record with another key does not activate; activate by hand works", async () => {
    await addDkimKey(deps, "example.com", { selector: "a1" });
    await rotateDkimKey(deps, "example.com", { selector: "a2", activate: true });
    const [pending] = await rotateDkimKey(deps, "example.com", { selector: "a3" });
    const wrong = `v=DKIM1; k=rsa; p=${"A".repeat(40)}`;
    const listed = await listDkimKeys({ ...deps, lookupTxt: async () => [[wrong]] });
    expect(Object.fromEntries(listed.map((k) => [k.selector, k.state]))).toEqual({ a1: "retired", a2: "active", a3: "pending" });
    expect(pending!.record).toContain("a3._domainkey.example.com IN TXT");
    await activateDkimKey(deps, "example.com", "a3");
    const signer = createDkimSigner({ db: database.db, secrets: box });
    expect(selectors(await signer.sign(msg("a@example.com"), ["a@example.com"]))).toEqual(["a3"]);
    await removeDkimKey(deps, "example.com", "a1");
    expect((await listDkimKeys(deps)).map((k) => k.selector)).toEqual(["a2", "a3"]);
    await expect(removeDkimKey(deps, "example.com", "a1")).rejects.toThrow(Failure);
  });
});

describe("private keys", () => {
  test("stored sealed and bound to domain and selector; never in the list", async () => {
    await addDkimKey(deps, "example.com", { selector: "k" });
    const row = (await database.sql.execute("SELECT private_key FROM dkim_keys")).rows[0]!;
    const stored = String(row.private_key);
    expect(stored.startsWith("enc:v1:")).toBe(true);
    expect(stored).not.toContain("PRIVATE KEY");
    expect(await box.open(stored, "dkim:example.com:k")).toContain("BEGIN PRIVATE KEY");
    await expect(box.open(stored, "dkim:example.com:other")).rejects.toThrow();
    expect(JSON.stringify(await listDkimKeys(deps))).not.toContain(stored.slice(7, 40));
    expect(JSON.stringify(await listDkimKeys(deps))).not.toContain("PRIVATE");
  });

  test("adding without SMARTHOST_SECRET_KEY is refused; a key that does not open is a temporary failure, not unsigned mail", async () => {
    await expect(addDkimKey({ db: database.db }, "example.com")).rejects.toThrow(/SMARTHOST_SECRET_KEY/);
    await addDkimKey(deps, "example.com");
    const otherBox = await createSecretBox(generateSecretKey());
    const signer = createDkimSigner({ db: database.db, secrets: otherBox });
    const err = await signer.sign(msg("a@example.com"), ["a@example.com"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Failure);
    expect((err as Failure).kind).toBe("temporary");
  });

  test("selectors and domains are checked", async () => {
    await expect(addDkimKey(deps, "not a domain")).rejects.toThrow(Failure);
    await expect(addDkimKey(deps, "example.com", { selector: "bad_selector!" })).rejects.toThrow(Failure);
    await addDkimKey(deps, "example.com", { selector: "dup" });
    await expect(addDkimKey(deps, "example.com", { selector: "dup" })).rejects.toThrow(/already exists/);
    await expect(rotateDkimKey(deps, "nokeys.test")).rejects.toThrow(/no active DKIM key/);
  });
});
