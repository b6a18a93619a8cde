/**
 * A relay that signs: SMARTHOST_SECRET_KEY set, delivery on to a real smtp-server
 * upstream over STARTTLS, and helpers to read the TXT records `dkim add` prints.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addTenant, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "./relay.ts";
import { startUpstream, type Upstream } from "./upstream.ts";

export const SECRET_KEY = Buffer.alloc(32, 7).toString("base64");

export interface SigningRelay {
  dir: string;
  tenant: Tenant;
  upstream: Upstream;
  relay: Relay;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startSigningRelay(prepare: (dir: string, env: Record<string, string>) => Promise<void>): Promise<SigningRelay> {
  const dir = tempDir();
  const upstream = await startUpstream();
  const tenant = await addTenant(dir);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=required`]);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  const env = { SMARTHOST_SECRET_KEY: SECRET_KEY, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_UPSTREAM_CA_FILE: ca };
  await prepare(dir, env);
  const relay = await startRelay(dir, env);
  return {
    dir,
    tenant,
    upstream,
    relay,
    env,
    async stop() {
      await relay.stop();
      await upstream.close();
      removeDir(dir);
    },
  };
}

/** `name IN TXT "a" "b"` lines → name → the record as DNS returns it (strings joined). */
export function printedRecords(output: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of output.split("\n")) {
    const m = /^(\S+) IN TXT ((?:"[^"]*" ?)+)$/.exec(line.trim());
    if (m) out[m[1]!.toLowerCase()] = [...m[2]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]).join("");
  }
  return out;
}

export async function postJson(r: Relay, key: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${r.http}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
