/** What a DSN returns, found with native scans, is what the per-byte loops found (bench/micro/returned-reference.ts). */
import { expect, test } from "bun:test";
import { returnedContentReference } from "../../../bench/micro/returned-reference.ts";
import { MAX_RETURNED_HEADERS, returnedContent } from "../../../src/delivery/returned.ts";
import { random } from "../../support/random.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const show = (r: ReturnType<typeof returnedContent>) => (r ? { ...r, bytes: Buffer.from(r.bytes).toString("latin1") } : null);

test("3 000 random messages, RET=FULL and RET=HDRS: the same part, bytes and transfer encoding", () => {
  const pieces = ["\r\n", "\r\n\r\n", "\r", "\n", "\x00", "From: a@example.com\r\n", " folded\r\n", "\tfolded\r\n", "Gr\xfc\xdfe\r\n", "x".repeat(997), "y".repeat(998), "z".repeat(999), "body line\r\n"];
  const next = random(0xd5a);
  for (let k = 0; k < 3000; k++) {
    let s = "";
    for (let j = next(30); j > 0; j--) s += pieces[next(pieces.length)];
    const m = latin1(s);
    for (const ret of ["FULL", "HDRS", null]) {
      expect({ s, ret, got: show(returnedContent(m, ret)) }).toEqual({ s, ret, got: show(returnedContentReference(m, ret)) });
    }
  }
});

test("a header block past the cap is cut where the reference cut it, folds and all, at every offset near the cap", () => {
  for (let shift = 0; shift < 200; shift++) {
    for (const fold of ["", " more\r\n", "\tmore\r\n"]) {
      const filler = `X-F: ${"f".repeat(90)}\r\n`;
      const head = filler.repeat(Math.floor(MAX_RETURNED_HEADERS / filler.length) - 1) + `X-S: ${"s".repeat(shift)}\r\n` + fold + filler.repeat(3);
      const m = latin1(`${head}\r\nbody\r\n`);
      const got = returnedContent(m, null);
      expect(got?.kind === "headers" && got.truncated).toBe(true);
      expect(show(got)).toEqual(show(returnedContentReference(m, null)));
    }
  }
});
