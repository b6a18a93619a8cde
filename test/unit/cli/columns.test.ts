import { expect, test } from "bun:test";
import { cellText, formatTable } from "../../../src/cli/columns.ts";

/** Where each header name starts, and whether every row has a cell starting exactly there. */
function columnsLineUp(lines: string[]): boolean {
  const header = lines[0]!;
  const starts = [...header.matchAll(/\S+/g)].map((m) => Bun.stringWidth(header.slice(0, m.index)));
  return lines.slice(1).every((row) =>
    starts.every((s) => {
      const chars = [...row];
      let w = 0;
      for (let i = 0; i < chars.length; i++) {
        if (w === s) return chars[i] !== " " && (s === 0 || chars[i - 1] === " ");
        w += Bun.stringWidth(chars[i]!);
      }
      return false;
    }),
  );
}

test("a header in capitals, each column as wide as its widest cell, two spaces apart", () => {
  const lines = formatTable([
    { name: "acme", per_minute: 10, last_used_at: null },
    { name: "a-much-longer-name", per_minute: 1000, last_used_at: "2026-12-07T22:07:32.356Z" },
  ]);
  expect(lines).toEqual([
    "NAME                PER_MINUTE  LAST_USED_AT",
    "acme                10          -",
    "a-much-longer-name  1000        2026-12-07T22:07:32.356Z",
  ]);
  expect(columnsLineUp(lines)).toBe(true);
});

test("wide characters count as two cells, so the next column still lines up", () => {
  const lines = formatTable([
    { recipient: "用户@例子.中国", state: "deferred" },
    { recipient: "bob@example.com", state: "held" },
  ]);
  expect(columnsLineUp(lines)).toBe(true);
  expect(lines[1]).toBe("用户@例子.中国   deferred");
});

test("a cell is one line: breaks and tabs become spaces; nothing shows as -; lists are joined", () => {
  expect(cellText("451 4.3.0 try\r\n again\tlater")).toBe("451 4.3.0 try again later");
  expect([cellText(null), cellText(undefined), cellText(""), cellText([]), cellText("  ")]).toEqual(["-", "-", "-", "-", "-"]);
  expect(cellText(["message.delivered", "message.bounced"])).toBe("message.delivered,message.bounced");
  expect([cellText(0), cellText(false), cellText({ a: 1 })]).toEqual(["0", "false", '{"a":1}']);
  expect(formatTable([])).toEqual([]);
});
