import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assetSource } from "../../../scripts/embed-dashboard-assets.ts";
import { decodeHeaderWords } from "../../../src/dashboard/header-words.ts";

test("the embedded dashboard assets match src/dashboard/static and the installed htmx and uPlot", () => {
  expect(readFileSync(join(import.meta.dir, "../../../src/dashboard/assets.gen.ts"), "utf8")).toBe(assetSource());
});

test("encoded-words in a subject are decoded for display (RFC 2047)", () => {
  expect(decodeHeaderWords("=?utf-8?B?w6l0w6k=?= =?utf-8?Q?_d=C3=A9j=C3=A0?=")).toBe("été déjà");
  expect(decodeHeaderWords("plain <b>text</b>")).toBe("plain <b>text</b>");
  expect(decodeHeaderWords("=?x-unknown?B?AAAA?=")).toBe("=?x-unknown?B?AAAA?=");
});
