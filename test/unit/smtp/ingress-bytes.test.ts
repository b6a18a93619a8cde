/**
 * The DATA decoder and the BDAT reader with native line scans and views of the input give,
 * byte for byte, what the per-run-copy versions gave (bench/micro/ingress-reference.ts):
 * the same octets consumed per read, the same end, the same problem, the same message.
 */
import { describe, expect, test } from "bun:test";
import { ChunkReaderReference, DotDecoderReference } from "../../../bench/micro/ingress-reference.ts";
import { ChunkReader } from "../../../src/smtp/chunk-reader.ts";
import { DotDecoder } from "../../../src/smtp/dot-decoder.ts";
import { random } from "../../support/random.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const show = (b: Uint8Array | null) => (b ? Buffer.from(b).toString("latin1") : null);
const PREFIX = latin1("Received: from x\r\n\tby y; Sun, 29 Nov 2026 09:00:00 +0000\r\n");

const PIECES = [
  "\r\n", "\r", "\n", ".", "..", "a", "xyz ", "\r\n.", "\r\n.\r", "\r\n\r\n", ".\r\n", "\r\n..\r\n",
  "Gr\xfc\xdfe \xff\x80", "\x00", "x".repeat(996), "y".repeat(997), "z".repeat(998), "w".repeat(999), "v".repeat(3000),
];

function randomInput(next: (n: number) => number, ending: boolean): Uint8Array {
  let s = "";
  const count = next(40);
  for (let j = 0; j < count; j++) s += PIECES[next(PIECES.length)];
  // Most inputs end the data (then maybe pipelined bytes after it); some never do.
  if (ending) s += `\r\n.\r\n${next(2) ? "QUIT\r\n" : ""}`;
  return latin1(s);
}

/** The input cut at a few random points (repeated cuts give empty reads). */
function cuts(next: (n: number) => number, length: number): number[] {
  const points = Array.from({ length: next(5) }, () => next(length + 1)).sort((a, b) => a - b);
  return [...points, length];
}

function decode(d: DotDecoder | DotDecoderReference, input: Uint8Array, at: number[]) {
  const consumed: number[] = [];
  let from = 0;
  for (const to of at) {
    if (d.done) break;
    consumed.push(d.feed(input.subarray(from, to)));
    from = to;
  }
  return { consumed, done: d.done, problem: d.problem, message: show(d.message(PREFIX)), bare: show(d.message()) };
}

describe("DotDecoder with native scans and views", () => {
  test("3 000 random inputs, each split at random points, decode as the reference does", () => {
    const next = random(0x1b7e5);
    for (let k = 0; k < 3000; k++) {
      const input = randomInput(next, next(8) > 0);
      const at = cuts(next, input.length);
      const max = next(4) === 0 ? next(2000) : 1_000_000;
      const got = decode(new DotDecoder(max), input, at);
      const want = decode(new DotDecoderReference(max), input, at);
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ input: show(input), at, max, ...got }).toEqual({ input: show(input), at, max, ...want });
    }
  });

  // The edge cases by name, each fed split at every byte boundary (and at two).
  const edges: [string, string][] = [
    ["dot-stuffed lines at the chunk boundary", "a\r\n..b\r\n...\r\n.c\r\n.\r\n"],
    ["CRLF split across reads", "line one\r\nline two\r\n\r\nbody\r\n.\r\n"],
    ["bare LF and bare CR", "a\nb\rc\r\r\n\n.\r\n.\r\n"],
    ["8-bit bytes", "Subject: Gr\xfc\xdfe\r\n\r\n\xff\xfe\x80\r\n.\r\n"],
    ["the final dot line split across two reads", "x\r\n.\r\nRSET\r\n"],
    ["header end split across reads", "From: a\r\nTo: b\r\n\r\n\r\n.\r\n"],
    ["empty body", ".\r\n"],
    ["a line of exactly 1 000 octets, then one of 1 001", `${"h".repeat(998)}\r\n${"i".repeat(999)}\r\n.\r\n`],
  ];
  for (const [name, text] of edges) {
    test(`${name}: as the reference at every split`, () => {
      const input = latin1(text);
      for (let i = 0; i <= input.length; i++) {
        for (let j = i; j <= input.length; j += 7) {
          const at = [i, j, input.length];
          expect(decode(new DotDecoder(1_000_000), input, at)).toEqual(decode(new DotDecoderReference(1_000_000), input, at));
        }
      }
    });
  }

  test("keeps the body as views of the input: a body in one read is not copied", () => {
    const input = latin1("Subject: x\r\n\r\nhello\r\n.\r\n");
    const d = new DotDecoder(1_000_000);
    expect(d.feed(input)).toBe(input.length);
    const body = d.message()!;
    expect(show(body)).toBe("Subject: x\r\n\r\nhello\r\n");
    expect(body.buffer).toBe(input.buffer);
  });
});

describe("ChunkReader with native scans and views", () => {
  /** BDAT chunks of random sizes, each arriving in random reads, then LAST. */
  function read(r: ChunkReader | ChunkReaderReference, input: Uint8Array, sizes: number[], next: (n: number) => number) {
    const consumed: number[] = [];
    let from = 0;
    for (const size of sizes) {
      r.begin(size);
      const end = from + size;
      while (!r.chunkDone) {
        // A read may carry bytes past the chunk (the next command): the reader takes only its own.
        const to = Math.min(input.length, from + 1 + next(size + 8));
        const took = r.feed(input.subarray(from, to));
        consumed.push(took);
        from += took;
      }
      expect(from).toBe(end);
    }
    return { consumed, problem: r.problem, message: show(r.finish(PREFIX)) };
  }

  test("3 000 random inputs in random chunks and reads read as the reference does", () => {
    const next = random(0xbda7);
    for (let k = 0; k < 3000; k++) {
      const input = randomInput(next, false);
      const sizes: number[] = [];
      for (let left = input.length; left > 0; ) {
        const size = Math.min(left, 1 + next(input.length));
        sizes.push(size);
        left -= size;
      }
      const max = next(4) === 0 ? next(4000) : 1_000_000;
      const seed = next(1 << 30) + 1;
      const got = read(new ChunkReader(max), input, sizes, random(seed));
      const want = read(new ChunkReaderReference(max), input, sizes, random(seed));
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ input: show(input), sizes, ...got }).toEqual({ input: show(input), sizes, ...want });
    }
  });
});
