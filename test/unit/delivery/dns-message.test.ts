import { describe, expect, test } from "bun:test";
import { decodeResponse, encodeQuery } from "../../../src/delivery/dns-message.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const show = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString("hex") : x)));

// Answers of unbound 1.17 (validating, a zone signed by ldns-signzone), captured as sent.
const UNBOUND = {
  secureTlsa:
    "123481a00001000200000001035f3235045f746370076d782d676f6f640464616e6504746573740000340001c00c003400010000012c00230301010000000000000000000000000000000000000000000000000000000000000000c00c002e00010000012c005d00340d050000012c6b3bfcbe6b1712be0c7a0464616e6504746573740059d54963c09cbba0d474b06b627e1c52fede94d6b0f32306ff110258b0342787a3d23eb279cdf08b6014c70399fbfe6bedb85f7e941df9604f9689c61fde1c4b00002904d0000080000000",
  secureMx:
    "123481a0000100020000000104676f6f640464616e65047465737400000f0001c00c000f00010000012c000c000a076d782d676f6f64c011c00c002e00010000012c005d000f0d030000012c6b3bfcbe6b1712be0c7a0464616e65047465737400ca7e7260e0bc511ae0976eee2a97d9f45bc6e02196f34e3de6d2c3af3423376ef858cdc97f2201b3df408a5ace2530c8c85f8bf7897369a485316d1d02b6fa9b00002904d0000080000000",
  bogusServfail: "123481820001000000000001035f3235045f746370086d782d626f6775730464616e650474657374000034000100002904d0000080000000",
  insecureMx: "12348180000100010000000105706c61696e047465737400000f0001c00c000f00010000012c0007000a026d78c00c00002904d0000080000000",
};

// Header (id 0x0001, QR RD RA [+flags]), one question for `a.` type 28, then the given answers.
const built = (flags: number, answers: string, ancount = 1) =>
  hex(`0001 ${(0x8180 | flags).toString(16)} 0001 ${ancount.toString(16).padStart(4, "0")} 0000 0000 01610000 1c0001 ${answers}`);

const rows: [string, Uint8Array, unknown][] = [
  [
    "a secure TLSA answer (AD) with its RRSIG, the name compressed",
    hex(UNBOUND.secureTlsa),
    {
      id: 0x1234, rcode: 0, truncated: false, authentic: true,
      answers: [
        { name: "_25._tcp.mx-good.dane.test", ttl: 300, data: { type: "TLSA", tlsa: { usage: 3, selector: 1, matchingType: 1, data: "00".repeat(32) } } },
        { name: "_25._tcp.mx-good.dane.test", ttl: 300, data: { type: "other", code: 46 } },
      ],
    },
  ],
  [
    "a secure MX answer whose exchange points into the question",
    hex(UNBOUND.secureMx),
    {
      id: 0x1234, rcode: 0, truncated: false, authentic: true,
      answers: [
        { name: "good.dane.test", ttl: 300, data: { type: "MX", priority: 10, exchange: "mx-good.dane.test" } },
        { name: "good.dane.test", ttl: 300, data: { type: "other", code: 46 } },
      ],
    },
  ],
  ["a bogus answer: SERVFAIL, no AD, no records", hex(UNBOUND.bogusServfail), { id: 0x1234, rcode: 2, truncated: false, authentic: false, answers: [] }],
  [
    "an insecure (unsigned) MX answer: no AD",
    hex(UNBOUND.insecureMx),
    { id: 0x1234, rcode: 0, truncated: false, authentic: false, answers: [{ name: "plain.test", ttl: 300, data: { type: "MX", priority: 10, exchange: "mx.plain.test" } }] },
  ],
  [
    "an AAAA record written the short way",
    built(0, "c00c 001c 0001 00000e10 0010 20010db8000000000000000000000001"),
    { id: 1, rcode: 0, truncated: false, authentic: false, answers: [{ name: "a", ttl: 3600, data: { type: "AAAA", address: "2001:db8::1" } }] },
  ],
  ["a truncated answer says so (ask again over TCP)", built(0x0200, "", 0), { id: 1, rcode: 0, truncated: true, authentic: false, answers: [] }],
  [
    "a CNAME and the A record it leads to",
    built(0x20, "c00c 0005 0001 0000003c 0004 0162c00e  016200 0001 0001 0000003c 0004 c0000201", 2),
    { id: 1, rcode: 0, truncated: false, authentic: true, answers: [{ name: "a", ttl: 60, data: { type: "CNAME", target: "b" } }, { name: "b", ttl: 60, data: { type: "A", address: "192.0.2.1" } }] },
  ],
];

const refused: [string, Uint8Array][] = [
  ["shorter than a header", hex("1234 8180 0001")],
  ["a query, not a response", hex("0001 0100 0000 0000 0000 0000")],
  ["a compression pointer that points at itself", built(0, "c013 0001 0001 00000000 0004 7f000001")],
  ["a record longer than the message", built(0, "c00c 0001 0001 00000000 0010 7f000001")],
  ["a name that runs past the end", hex("0001 8180 0001 0000 0000 0000 0561")],
];

describe("DNS messages", () => {
  for (const [name, bytes, expected] of rows) test(`reads ${name}`, () => expect(show(decodeResponse(bytes))).toEqual(expected));
  for (const [name, bytes] of refused) test(`refuses ${name}`, () => expect(() => decodeResponse(bytes)).toThrow("malformed DNS response"));

  test("a query asks for recursion and authenticated data, with EDNS0 and the DO bit", () => {
    expect(Buffer.from(encodeQuery(0xbeef, "_25._tcp.mx.example.", "TLSA")).toString("hex")).toBe(
      "beef" + "0120" + "0001000000000001" + "035f3235045f746370026d78076578616d706c6500" + "00340001" + "00002904d0000080000000",
    );
  });

  test("a query and its answer round-trip through the decoder's id", () => {
    const q = encodeQuery(7, "example.test", "MX");
    expect(q[0]! * 256 + q[1]!).toBe(7);
    expect(() => encodeQuery(1, `${"x".repeat(64)}.test`, "A")).toThrow("label too long");
  });
});
