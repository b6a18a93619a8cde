import { expect, test } from "bun:test";
import addressparser from "nodemailer/lib/addressparser";
import { parseMailbox } from "../../../src/smtp/address.ts";
import { parseSingleAddress } from "../../../src/mime/addresses.ts";

/** What parseSingleAddress gives through addressparser alone (the path every input took before). */
function viaAddressparser(value: string) {
  const list = addressparser(value);
  if (list.length !== 1 || list[0]!.group) return null;
  const box = parseMailbox(list[0]!.address ?? "", true);
  if (!box || box === "utf8") return null;
  return { name: list[0]!.name || null, address: box.address, domain: box.domain, utf8: box.utf8 };
}

test("a bare address parses exactly as addressparser reads it, edge cases included", () => {
  const cases = ["bench@example.com", "First.Last+tag@Sub.Example.COM", "a@b", "a_b-c@d-e.f", ".a@b.c", "a.@b.c", "a..b@c.d", "a@.b", "a@b.", "a@b..c", "a@-b.c", "a@b-.c", "-@-", "+@x.y", "a@b@c", "@b.c", "a@", `${"x".repeat(64)}@b.c`, `${"x".repeat(65)}@b.c`, `a@${"d".repeat(63)}.c`, `a@${"d".repeat(64)}.c`];
  for (const c of cases) expect({ c, got: parseSingleAddress(c) }).toEqual({ c, got: viaAddressparser(c) });
});

test("random strings of the bare-address characters parse as addressparser reads them", () => {
  const chars = "ab.+-_@Z9";
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 3000; i++) {
    let s = "";
    const n = 1 + (next() % 12);
    for (let j = 0; j < n; j++) s += chars[next() % chars.length];
    expect({ s, got: parseSingleAddress(s) }).toEqual({ s, got: viaAddressparser(s) });
  }
});

test("names, angle brackets and lists still go through addressparser", () => {
  expect(parseSingleAddress("Bench <bench@example.com>")).toEqual({ name: "Bench", address: "bench@example.com", domain: "example.com", utf8: false });
  expect(parseSingleAddress("a@b.c, d@e.f")).toBeNull();
  expect(parseSingleAddress(" bench@example.com ")).toEqual({ name: null, address: "bench@example.com", domain: "example.com", utf8: false });
});
