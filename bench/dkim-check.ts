/**
 * A one-off check, outside the timed runs, that each DKIM row's relay really signs:
 * one message from smtp-source through it, caught by smtp-sink's dump (-d), then its
 * DKIM-Signature fields verified with mailauth against the keys' own TXT records (no
 * DNS: a resolver answers from the keys made here).
 *
 *   bun bench/dkim-check.ts      (npm run bench:dkim-check)
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dkimVerify } from "mailauth";
import { DKIM_DOMAIN, DKIM_SELECTOR, makeRsaKey, startHarakaDkim, startPostfixDkim, startSmarthostDkim } from "./dkim-peers.ts";
import { smtpSource } from "./load.ts";
import { startSink, type Relay } from "./peers.ts";

/** `sel._domainkey.example.com IN TXT "v=DKIM1; …" "…"` lines, as `dkim add` prints them, joined per name. */
function recordsFrom(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(\S+\._domainkey\.\S+?)\.?\s+IN\s+TXT\s+(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = [...m[2]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]).join("");
  }
  return out;
}

async function check(name: string, start: (sink: number) => Promise<Relay>, records: () => Record<string, string>): Promise<boolean> {
  const dump = mkdtempSync(join(tmpdir(), "bench-dkim-dump-"));
  chmodSync(dump, 0o777); // smtp-sink writes as the postfix user
  const sink = await startSink({ dumpDir: dump });
  let relay: Relay | null = null;
  try {
    relay = await start(sink.port);
    await smtpSource(relay.port, 1, 2048, 1, false);
    const deadline = Date.now() + 30_000;
    while (readdirSync(dump).length === 0 && Date.now() < deadline) await Bun.sleep(100);
    const file = readdirSync(dump)[0];
    if (!file) throw new Error("nothing reached the sink");
    // smtp-sink writes its own X- fields and a Received line first, as a receiver adds its own.
    const message = readFileSync(join(dump, file));
    const head = message.toString("latin1").split(/\r?\n\r?\n/)[0]!;
    const signatures = [...head.matchAll(/^DKIM-Signature:.*(?:\r?\n[ \t].*)*/gim)].map((m) => m[0].replace(/\r?\n[ \t]+/g, " "));
    const table = records();
    const verdict = await dkimVerify(message, {
      resolver: async (n: string) => (table[n] ? [[table[n]]] : Promise.reject(Object.assign(new Error("no such record"), { code: "ENOTFOUND" }))),
    });
    const results = verdict.results.map((r) => `${r.signingDomain}/${r.selector}: ${r.status.result}`);
    const ok = signatures.length > 0 && verdict.results.length > 0 && verdict.results.every((r) => r.status.result === "pass");
    console.log(`${ok ? "✓" : "✗"} ${name}: ${signatures.length} DKIM-Signature field(s); ${results.join("; ") || "nothing verified"}`);
    for (const s of signatures) console.log(`    ${s.slice(0, 160)}${s.length > 160 ? "…" : ""}`);
    return ok;
  } finally {
    await relay?.stop();
    await sink.stop();
    rmSync(dump, { recursive: true, force: true });
  }
}

const key = makeRsaKey();
const shared = () => ({ [`${DKIM_SELECTOR}._domainkey.${DKIM_DOMAIN}`]: `v=DKIM1; k=rsa; p=${key.publicB64}` });
let printedRsa = "";
let printedBoth = "";
const results = [
  await check("Postfix + OpenDKIM (milter)", startPostfixDkim(key), shared),
  await check("Haraka + haraka-plugin-dkim", startHarakaDkim(key), shared),
  await check("smarthost (dkim add --algorithm rsa)", startSmarthostDkim("rsa", (t) => (printedRsa = t)), () => recordsFrom(printedRsa)),
  await check("smarthost (dkim add --algorithm both)", startSmarthostDkim("both", (t) => (printedBoth = t)), () => recordsFrom(printedBoth)),
];
process.exit(results.every(Boolean) ? 0 : 1);
