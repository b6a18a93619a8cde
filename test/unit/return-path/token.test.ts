/** VERP return-path tokens: what they name, how they survive case folding, what they refuse. */
import { describe, expect, test } from "bun:test";
import { createSecretBox, generateSecretKey } from "../../../src/secrets/cipher.ts";
import { readReturnLocalPart, returnLocalPart, type Mac } from "../../../src/return-path/token.ts";

const box = await createSecretBox(generateSecretKey());
const other = await createSecretBox(generateSecretKey());
const mac: Mac = (d, p) => box.mac(d, p);
const otherMac: Mac = (d, p) => other.mac(d, p);
const ID = "01JQ8ZC7H4M2N8P4R6T8V0W2XY";

describe("return-path token", () => {
  test("names the message and the recipient row, in lower case, within 64 octets", async () => {
    const local = (await returnLocalPart(mac, { messageId: ID, recipientId: 123456 }))!;
    expect(local).toMatch(/^b-[0-9a-z]+-[0-9a-v]+-[a-z2-7]{13}$/);
    expect(local).toBe(local.toLowerCase());
    expect(local.length).toBeLessThanOrEqual(64);
    expect(await readReturnLocalPart(mac, local)).toEqual({ messageId: ID, recipientId: 123456 });
  });

  test("each recipient of a message gets its own token", async () => {
    const a = await returnLocalPart(mac, { messageId: ID, recipientId: 1 });
    const b = await returnLocalPart(mac, { messageId: ID, recipientId: 2 });
    expect(a).not.toBe(b);
  });

  test("a receiver that folds the local part to upper case still names the same recipient", async () => {
    const local = (await returnLocalPart(mac, { messageId: ID, recipientId: 7 }))!;
    expect(await readReturnLocalPart(mac, local.toUpperCase())).toEqual({ messageId: ID, recipientId: 7 });
  });

  const cases: [string, (local: string) => string][] = [
    ["another recipient id with the same MAC", (l) => l.replace(/-([0-9a-v]+)-/, "-zz-")],
    ["another message id with the same MAC", (l) => l.replace(/^b-./, "b-z")],
    ["a changed MAC", (l) => l.slice(0, -1) + (l.endsWith("a") ? "b" : "a")],
    ["a shortened MAC", (l) => l.slice(0, -1)],
    ["no b- prefix", (l) => l.slice(2)],
    ["an ordinary mailbox", () => "postmaster"],
    ["an empty local part", () => ""],
  ];
  for (const [what, change] of cases) {
    test(`refuses ${what}`, async () => {
      const local = (await returnLocalPart(mac, { messageId: ID, recipientId: 42 }))!;
      expect(await readReturnLocalPart(mac, change(local))).toBeNull();
    });
  }

  test("a token made with another SMARTHOST_SECRET_KEY does not verify", async () => {
    const local = (await returnLocalPart(otherMac, { messageId: ID, recipientId: 42 }))!;
    expect(await readReturnLocalPart(mac, local)).toBeNull();
  });

  test("no token for a queue id that is not of our own form (it could not be folded back)", async () => {
    expect(await returnLocalPart(mac, { messageId: "abc-def", recipientId: 1 })).toBeNull();
    expect(await returnLocalPart(mac, { messageId: ID, recipientId: -1 })).toBeNull();
  });
});
