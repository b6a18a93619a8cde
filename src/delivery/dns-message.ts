/**
 * DNS messages (RFC 1035 §4) for the lookups DANE needs: a query with EDNS0 and the DO bit
 * (RFC 3225) and the AD bit (RFC 6840 §5.7), and the answers we read — MX, A, AAAA,
 * CNAME, TLSA (RFC 6698 §2.1) — with the header flags that say whether the resolver
 * validated them. The runtime's resolvers (node:dns) do not expose the AD bit, so DANE
 * sends its own queries (src/runtime/node-dns-exchange.ts). Pure: bytes in, bytes out.
 */
import { Failure } from "../core/failure.ts";

export const RR = { A: 1, CNAME: 5, MX: 15, AAAA: 28, OPT: 41, TLSA: 52 } as const;
export type RecordType = "A" | "AAAA" | "CNAME" | "MX" | "TLSA";

export interface Tlsa {
  usage: number;
  selector: number;
  matchingType: number;
  data: Uint8Array;
}

export type RecordData =
  | { type: "A" | "AAAA"; address: string }
  | { type: "CNAME"; target: string }
  | { type: "MX"; priority: number; exchange: string }
  | { type: "TLSA"; tlsa: Tlsa }
  | { type: "other"; code: number };

export interface DnsAnswer {
  name: string;
  ttl: number;
  data: RecordData;
}

export interface DnsResponse {
  id: number;
  /** RFC 1035 §4.1.1 RCODE: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN. */
  rcode: number;
  /** Truncated: ask again over TCP (RFC 7766). */
  truncated: boolean;
  /** Authentic Data: the resolver validated every record in the answer (RFC 4035 §3.2.3). */
  authentic: boolean;
  answers: DnsAnswer[];
}

const malformed = (why: string) => new Failure("temporary", "malformed DNS response", { code: "dns_malformed", reason: why });

/** A query for one name and type: RD (recursion), AD (RFC 6840 §5.7) and an OPT record with DO (RFC 3225). */
export function encodeQuery(id: number, name: string, type: RecordType): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".").filter((l) => l.length > 0);
  const qname = labels.flatMap((l) => {
    const bytes = [...new TextEncoder().encode(l)];
    if (bytes.length > 63) throw new Failure("invalid", `DNS label too long in ${name}`);
    return [bytes.length, ...bytes];
  });
  const out = [
    id >> 8, id & 0xff,
    0x01, 0x20, // RD; AD
    0, 1, 0, 0, 0, 0, 0, 1, // one question, one additional (OPT)
    ...qname, 0,
    0, RR[type], 0, 1, // QTYPE, QCLASS IN
    // RFC 6891 §6.1.2: root name, OPT, 1232-octet UDP size, DO set in the extended flags.
    0, 0, RR.OPT, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0,
  ];
  return Uint8Array.from(out);
}

/** A name at `at`, following compression pointers (RFC 1035 §4.1.4) with a bound on jumps. */
function readName(msg: Uint8Array, at: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = at;
  let next = -1;
  for (let jumps = 0; ; ) {
    const len = msg[pos];
    if (len === undefined) throw malformed("name runs past the end");
    if ((len & 0xc0) === 0xc0) {
      const low = msg[pos + 1];
      if (low === undefined || ++jumps > 32) throw malformed("bad compression pointer");
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | low;
      continue;
    }
    if (len > 63) throw malformed("bad label length");
    if (len === 0) return { name: labels.join("."), next: next < 0 ? pos + 1 : next };
    if (pos + 1 + len > msg.length) throw malformed("label runs past the end");
    labels.push(new TextDecoder().decode(msg.subarray(pos + 1, pos + 1 + len)).toLowerCase());
    pos += 1 + len;
  }
}

const u16 = (m: Uint8Array, at: number): number => {
  if (at + 2 > m.length) throw malformed("truncated");
  return (m[at]! << 8) | m[at + 1]!;
};
const u32 = (m: Uint8Array, at: number): number => u16(m, at) * 65536 + u16(m, at + 2);

function ipv6(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(/:{3,}/, "::");
}

function recordData(msg: Uint8Array, type: number, at: number, length: number): RecordData {
  const rdata = msg.subarray(at, at + length);
  if (type === RR.A && length === 4) return { type: "A", address: [...rdata].join(".") };
  if (type === RR.AAAA && length === 16) return { type: "AAAA", address: ipv6(rdata) };
  if (type === RR.CNAME) return { type: "CNAME", target: readName(msg, at).name };
  if (type === RR.MX && length >= 3) return { type: "MX", priority: u16(msg, at), exchange: readName(msg, at + 2).name };
  if (type === RR.TLSA && length >= 3) return { type: "TLSA", tlsa: { usage: rdata[0]!, selector: rdata[1]!, matchingType: rdata[2]!, data: rdata.slice(3) } };
  return { type: "other", code: type };
}

export function decodeResponse(msg: Uint8Array): DnsResponse {
  if (msg.length < 12) throw malformed("shorter than a header");
  const flags = u16(msg, 2);
  if ((flags & 0x8000) === 0) throw malformed("not a response");
  const [qd, an] = [u16(msg, 4), u16(msg, 6)];
  let pos = 12;
  for (let i = 0; i < qd; i++) pos = readName(msg, pos).next + 4;
  const answers: DnsAnswer[] = [];
  for (let i = 0; i < an; i++) {
    const { name, next } = readName(msg, pos);
    const type = u16(msg, next);
    const ttl = u32(msg, next + 4);
    const length = u16(msg, next + 8);
    const start = next + 10;
    if (start + length > msg.length) throw malformed("record runs past the end");
    answers.push({ name, ttl, data: recordData(msg, type, start, length) });
    pos = start + length;
  }
  return { id: u16(msg, 0), rcode: flags & 0x0f, truncated: (flags & 0x0200) !== 0, authentic: (flags & 0x0020) !== 0, answers };
}
