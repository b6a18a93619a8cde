import { describe, expect, test } from "bun:test";
import { DotDecoder } from "../../../src/smtp/dot-decoder.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);

/** Feeds `input` in pieces of the given sizes; returns the decoder and bytes consumed. */
function run(input: string, split: number[] = [], max = 1_000_000) {
  const bytes = enc(input);
  const d = new DotDecoder(max);
  let at = 0;
  let consumed = 0;
  const cuts = [...split, bytes.length];
  for (const cut of cuts) {
    if (d.done) break;
    const piece = bytes.subarray(at, Math.max(at, cut));
    consumed += d.feed(piece);
    at = Math.max(at, cut);
  }
  return { d, consumed, total: bytes.length };
}

describe("DotDecoder", () => {
  const cases: { name: string; input: string; body: string | null; consumed?: number; problem?: string }[] = [
    { name: "ends at CRLF.CRLF", input: "Subject: x\r\n\r\nhello\r\n.\r\n", body: "Subject: x\r\n\r\nhello\r\n" },
    { name: "empty message", input: ".\r\n", body: "" },
    { name: "unstuffs a leading dot", input: "..hidden\r\n...\r\n.\r\n", body: ".hidden\r\n..\r\n" },
    { name: "leaves bytes after the end unread", input: "a\r\n.\r\nMAIL FROM:<x@y>\r\n", body: "a\r\n", consumed: 6 },
    { name: "keeps a dot inside a line", input: "a.b\r\n .\r\n.\r\n", body: "a.b\r\n .\r\n" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { d, consumed, total } = run(c.input);
      expect(d.done).toBe(true);
      expect(dec(d.message())).toBe(c.body);
      expect(consumed).toBe(c.consumed ?? total);
    });
  }

  // SMTP smuggling: none of these may end the data, and each makes the message invalid.
  const smuggling: [string, string][] = [
    ["<LF>.<LF>", "a\n.\nMAIL FROM:<evil@x>\r\n"],
    ["<CR>.<CR>", "a\r.\rMAIL FROM:<evil@x>\r\n"],
    ["<LF>.<CR><LF>", "a\n.\r\nMAIL FROM:<evil@x>\r\n"],
    ["<CR><LF>.<LF>", "a\r\n.\nMAIL FROM:<evil@x>\r\n"],
    ["<CR><LF>.<CR>", "a\r\n.\rMAIL FROM:<evil@x>\r\n"],
    ["<CR>.<CR><LF>", "a\r.\r\nMAIL FROM:<evil@x>\r\n"],
  ];
  for (const [name, input] of smuggling) {
    test(`${name} does not end the data and refuses the message`, () => {
      const { d } = run(input);
      expect(d.done).toBe(false);
      const { d: d2, consumed, total } = run(`${input}more\r\n.\r\nRSET\r\n`);
      expect(d2.done).toBe(true);
      expect(consumed).toBe(total - "RSET\r\n".length);
      expect(d2.problem).toBe("bare-line-ending");
      expect(d2.message()).toBeNull();
    });
  }

  test("gives the same result split at every byte boundary", () => {
    const input = "From: a\r\n..x\r\n\r\n.\r\n";
    const whole = run(input);
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j += 3) {
        const r = run(input, [i, j]);
        expect(r.d.done).toBe(true);
        expect(dec(r.d.message())).toBe(dec(whole.d.message()));
      }
    }
  });

  test("refuses a line over 1000 octets but reads to the end", () => {
    const { d, consumed, total } = run(`${"x".repeat(999)}\r\n.\r\n`);
    expect(d.problem).toBe("line-too-long");
    expect(consumed).toBe(total);
    expect(run(`${"x".repeat(998)}\r\n.\r\n`).d.problem).toBeNull();
  });

  test("flags an oversized message yet finds its end", () => {
    const { d, consumed, total } = run(`${"y".repeat(50)}\r\n${"z".repeat(50)}\r\n.\r\n`, [], 60);
    expect(d.done).toBe(true);
    expect(d.problem).toBe("too-big");
    expect(consumed).toBe(total);
  });
});
