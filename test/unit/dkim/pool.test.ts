/** DKIM signing on a pool of threads: the same signatures as inline, verifiable; a dying thread loses and acknowledges nothing. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { dkimVerify } from "mailauth";
import { addDkimKey } from "../../../src/admin/dkim.ts";
import { createDkimSigner } from "../../../src/dkim/signer.ts";
import type { SignaturePool } from "../../../src/dkim/sign-jobs.ts";
import { Gateway } from "../../../src/gateway/gateway.ts";
import { createDkimPool } from "../../../src/runtime/dkim-pool.ts";
import { createSecretBox, generateSecretKey, type SecretBox } from "../../../src/secrets/cipher.ts";
import { gatewayFixture, type GatewayFixture } from "../policy/gateway-fixture.ts";
import { Failure } from "../../../src/core/failure.ts";

let f: GatewayFixture;
let box: SecretBox;
let pools: SignaturePool[] = [];
let records: Record<string, string> = {};

beforeEach(async () => {
  f = await gatewayFixture();
  box = await createSecretBox(generateSecretKey());
  records = {};
  for (const view of await addDkimKey({ db: f.database.db, secrets: box }, "example.com", { selector: "pool", algorithm: "both" })) {
    records[`${view.selector}._domainkey.example.com`] = [...view.record.matchAll(/"([^"]*)"/g)].map((m) => m[1]!).join("");
  }
});
afterEach(async () => {
  for (const p of pools) await p.close();
  pools = [];
  f?.close();
});

const pool = (size: number, entry?: URL) => {
  const p = createDkimPool({ size, entry });
  pools.push(p);
  return p;
};
const resolver = async (name: string) => (records[name] ? [[records[name]]] : Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" })));
const msg = (subject: string) => new TextEncoder().encode(`From: a@example.com\r\nTo: b@dest.test\r\nSubject: ${subject}\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\n\r\nbody line one\r\n\r\n\r\n`);

describe("signing on threads", () => {
  test("many messages at once: each verifies (RSA and Ed25519) and equals what inline signing makes", async () => {
    const now = () => Date.UTC(2026, 10, 29, 8);
    const threaded = createDkimSigner({ db: f.database.db, secrets: box, pool: pool(2), now });
    const inline = createDkimSigner({ db: f.database.db, secrets: box, now });
    const raws = Array.from({ length: 30 }, (_, i) => msg(`message ${i} ü`));
    const signed = await Promise.all(raws.map((r) => threaded.sign(r, ["a@example.com"])));
    for (let i = 0; i < raws.length; i++) {
      const out = Buffer.from(signed[i]!);
      // RSASSA-PKCS1-v1_5 and Ed25519 are deterministic: same key, time and bytes, same fields.
      expect(out.toString("latin1")).toBe(Buffer.from(await inline.sign(raws[i]!, ["a@example.com"])).toString("latin1"));
      const v = await dkimVerify(out, { resolver });
      expect(v.results.map((r) => [r.signingDomain, r.selector, r.status.result])).toEqual([
        ["example.com", "pool-rsa", "pass"],
        ["example.com", "pool-ed25519", "pass"],
      ]);
    }
  });
});

describe("a signing thread that dies", () => {
  let gateway: Gateway;
  const submit = (subject: string) =>
    gateway.submit({ accountId: "acct", source: "smtp", mailFrom: "a@example.com", recipients: [{ address: "b@dest.test", domain: "dest.test" }], raw: msg(subject) });
  const stored = async () => (await f.client.execute("SELECT raw FROM messages")).rows.map((r) => Buffer.from(r.raw as ArrayBuffer).toString("latin1"));

  for (const how of ["CRASH-THREAD", "THROW-THREAD"]) {
    test(`${how}: the submission gets a temporary error and nothing is stored; the next message is signed by a new thread`, async () => {
      const signer = createDkimSigner({ db: f.database.db, secrets: box, pool: pool(1, new URL("../../support/crashing-dkim-worker.ts", import.meta.url)) });
      gateway = new Gateway({ db: f.database.db, sql: f.database.sql, maxMessageBytes: 1_000_000, metrics: f.metrics, signer });
      // One thread: it signs a message, dies on the next, and a new one (sent the keys again) signs the last.
      await submit("before");
      const err = await submit(`dies ${how}`).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Failure);
      expect((err as Failure).kind).toBe("temporary");
      expect((err as Failure).extra.code).toBe("dkim_unavailable");
      await submit("after");
      const rows = await stored();
      expect(rows.map((r) => /Subject: (.*)\r\n/.exec(r)?.[1])).toEqual(["before", "after"]);
      for (const r of rows) {
        expect(r).toStartWith("DKIM-Signature: v=1; a=rsa-sha256;");
        expect((await dkimVerify(Buffer.from(r, "latin1"), { resolver })).results.map((x) => x.status.result)).toEqual(["pass", "pass"]);
      }
    });
  }
});
