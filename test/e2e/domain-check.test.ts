/** `smarthost domain check` and `GET /v1/domains/{domain}` on the running relay, DNS from a loopback server. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startDns, type DnsServer, type Zone } from "../support/dns-server.ts";
import { printedRecords, SECRET_KEY } from "../support/dkim-relay.ts";
import { cli, useRelay } from "../support/relay.ts";

const zone: Required<Pick<Zone, "txt" | "mx">> = { txt: {}, mx: {} };
const env: Record<string, string> = { SMARTHOST_SECRET_KEY: SECRET_KEY, SMARTHOST_SENDING_IPS: "192.0.2.10" };
let dns: DnsServer;
beforeAll(async () => {
  dns = await startDns(zone);
  env.SMARTHOST_DNS_SERVERS = dns.address;
});
const f = useRelay(env, async (dir) => {
  const added = await cli(dir, ["dkim", "add", "example.com", "--selector", "dc"], env);
  // Published as printed (a 2048-bit key: one record of two strings).
  for (const [name, value] of Object.entries(printedRecords(added.stdout))) zone.txt[name] = [[value.slice(0, 255), value.slice(255)]];
  zone.txt["example.com"] = [["v=spf1 ip4:192.0.2.10 -all"]];
  zone.txt["_dmarc.example.com"] = [["v=DMARC1; p=none"]];
  zone.txt["_smtp._tls.example.com"] = [["v=TLSRPTv1; rua=mailto:tls@example.com"]];
});
afterAll(() => dns?.close());

const get = async (path: string, key?: string) => {
  const res = await fetch(`${f.relay.http}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as any };
};

describe("domain check", () => {
  test("the CLI prints ✓/✗ per record and the record still to publish", async () => {
    const r = await cli(f.dir, ["domain", "check", "example.com"], env);
    // MTA-STS is still to publish: exit 1.
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("example.com: records to publish below");
    expect(lines).toContain("✓ SPF: authorizes this relay's sending addresses and provider routes");
    expect(lines).toContain("✓ DKIM dc: active: published key matches");
    expect(lines).toContain("✓ DMARC: receivers only report (p=none)");
    expect(lines).toContain("✗ MTA-STS: no MTA-STS record: TLS to your MX is opportunistic only");
    expect(r.stdout).toMatch(/ {4}publish: _mta-sts\.example\.com IN TXT "v=STSv1; id=\d{10}"/);
    expect(lines).toContain("✓ TLS-RPT: reports requested");
  });

  test("GET /v1/domains/{domain} gives the same report as domain check --json, for the account's own domains only", async () => {
    const api = await get("/v1/domains/example.com", f.tenant.apiKey);
    expect(api.status).toBe(200);
    const viaCli = JSON.parse((await cli(f.dir, ["domain", "check", "example.com", "--json"], env)).stdout);
    expect(api.body).toEqual(viaCli);
    expect(api.body.checks.map((c: { check: string; ok: boolean }) => `${c.check} ${c.ok}`)).toEqual(["spf true", "dkim true", "dmarc true", "mta-sts false", "tls-rpt true"]);
    expect((await get("/v1/domains/example.com")).status).toBe(401);
    const other = await get("/v1/domains/other.test", f.tenant.apiKey);
    expect([other.status, other.body.error.code]).toEqual([403, "domain_not_allowed"]);
    const bad = await get("/v1/domains/not_a_domain", f.tenant.apiKey);
    expect([bad.status, bad.body.error.code]).toEqual([400, "invalid_domain"]);
  });
});
