/**
 * DKIM signatures made by the relay, checked by an implementation that is not ours:
 * dkimpy (Debian python3-dkim, python3-nacl for Ed25519). Messages go through the real
 * relay over SMTP and HTTP, are captured at a real smtp-server upstream, and are verified
 * against the TXT records exactly as `smarthost dkim add` printed them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { cli } from "../support/relay.ts";
import { postJson, printedRecords, startSigningRelay, type SigningRelay } from "../support/dkim-relay.ts";
import { smtplibSend } from "../support/python.ts";
import { requireTool } from "../support/require-tool.ts";
import { waitFor } from "../support/wait.ts";

// Debian's interpreter: its dist-packages hold dkimpy (another python3 may come first on PATH).
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : requireTool("python3");

const VERIFY = `
import base64, json, re, sys, dkim
d = json.load(sys.stdin)
records = d["records"]
def dnsfunc(name, timeout=5):
    n = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
    v = records.get(n)
    return v.encode() if v else None
def verify(msg, i):
    try:
        return dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)
    except dkim.ValidationError:
        return False
def results(msg):
    n = sum(1 for line in msg.split(b"\\r\\n") if line.lower().startswith(b"dkim-signature:"))
    return [verify(msg, i) for i in range(n)]
msg = base64.b64decode(d["message"])
head, body = msg.split(b"\\r\\n\\r\\n", 1)
tampered = head + b"\\r\\n\\r\\n" + bytes([body[0] ^ 1]) + body[1:]
extra_from_top = b"From: mallory@evil.test\\r\\n" + msg
extra_from_bottom = head + b"\\r\\nFrom: mallory@evil.test\\r\\n\\r\\n" + body
sigs = [re.sub(rb"\\r\\n[ \\t]+", b" ", m) for m in re.findall(rb"^DKIM-Signature:[^\\r\\n]*(?:\\r\\n[ \\t][^\\r\\n]*)*", head, re.I | re.M)]
print(json.dumps({
  "signatures": [s.decode() for s in sigs],
  "verified": results(msg),
  "tampered": results(tampered),
  "extra_from_top": results(extra_from_top),
  "extra_from_bottom": results(extra_from_bottom),
}))
`;

interface Verdict {
  signatures: string[];
  verified: boolean[];
  tampered: boolean[];
  extra_from_top: boolean[];
  extra_from_bottom: boolean[];
}

// The list fields changed on the way: the value altered, one taken away, a second one added on top.
const VERIFY_LIST = `
import base64, json, re, sys, dkim
d = json.load(sys.stdin)
records = d["records"]
def dnsfunc(name, timeout=5):
    n = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
    v = records.get(n)
    return v.encode() if v else None
def results(msg):
    n = sum(1 for line in msg.split(b"\\r\\n") if line.lower().startswith(b"dkim-signature:"))
    out = []
    for i in range(n):
        try:
            out.append(dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc))
        except dkim.ValidationError:
            out.append(False)
    return out
msg = base64.b64decode(d["message"])
head, body = msg.split(b"\\r\\n\\r\\n", 1)
hs = [dict(dkim.util.parse_tag_value(re.sub(rb"\\r\\n[ \\t]+", b" ", m)[len(b"DKIM-Signature:"):].strip()))[b"h"].decode() for m in re.findall(rb"^DKIM-Signature:[^\\r\\n]*(?:\\r\\n[ \\t][^\\r\\n]*)*", head, re.I | re.M)]
print(json.dumps({
  "h": hs,
  "verified": results(msg),
  "url_changed": results(msg.replace(b"List-Unsubscribe: <", b"List-Unsubscribe: <https://evil.test/u>, <", 1)),
  "post_removed": results(re.sub(rb"\\r\\nList-Unsubscribe-Post:[^\\r\\n]*", b"", msg, count=1)),
  "post_added": results(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\\r\\n" + msg),
}))
`;

async function dkimpy(message: Buffer, records: Record<string, string>, script = VERIFY): Promise<Verdict> {
  const proc = Bun.spawn([PYTHON, "-c", script], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(JSON.stringify({ message: message.toString("base64"), records }));
  await proc.stdin.end();
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`dkimpy failed (${code}): ${err}`);
  return JSON.parse(out) as Verdict;
}

let s: SigningRelay;
let records: Record<string, string> = {};
beforeAll(async () => {
  s = await startSigningRelay(async (dir, env) => {
    const r = await cli(dir, ["dkim", "add", "example.com", "--algorithm", "both", "--selector", "mail"], env);
    if (r.code !== 0) throw new Error(r.stderr);
    records = printedRecords(r.stdout);
    // For the one-click unsubscribe links below (nothing fetches them here).
    env.SMARTHOST_PUBLIC_URL = "https://relay.example.net";
  });
});
afterAll(() => s?.stop());

describe("dkimpy verifies what the relay signs", () => {
  test("the CLI printed one RSA and one Ed25519 record, the RSA one split into 255-char strings", () => {
    expect(Object.keys(records).sort()).toEqual(["mail-ed25519._domainkey.example.com", "mail-rsa._domainkey.example.com"]);
    expect(records["mail-rsa._domainkey.example.com"]).toMatch(/^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]{380,}$/);
    expect(records["mail-ed25519._domainkey.example.com"]).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
  });

  test("SMTP and HTTP submissions arrive with rsa-sha256 and ed25519-sha256 signatures that verify; a changed body byte or an added From: fails", async () => {
    const smtp = "From: Alice <alice@example.com>\r\nTo: bob@dest.test\r\nSubject: signed over SMTP\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\nMessage-ID: <smtp-1@example.com>\r\n\r\nHello  there \r\n\r\n\r\n";
    await smtplibSend(s.relay.smtpPort, s.tenant.username, s.tenant.password, "alice@example.com", ["bob@dest.test"], smtp);
    const http = await postJson(s.relay, s.tenant.apiKey, "/v1/messages", { from: "alice@example.com", to: ["carol@dest.test"], cc: ["dan@dest.test"], subject: "signed over HTTP", text: "Hi Carol\n", html: "<p>Hi</p>" });
    expect(http.status).toBe(202);
    await waitFor("both messages upstream", () => s.upstream.received.length >= 2 || undefined);
    for (const got of s.upstream.received) {
      const v = await dkimpy(got.raw, records);
      expect(v.signatures).toHaveLength(2);
      expect(v.signatures.some((x) => x.includes("a=ed25519-sha256") && x.includes("s=mail-ed25519"))).toBe(true);
      expect(v.signatures.some((x) => x.includes("a=rsa-sha256") && x.includes("s=mail-rsa"))).toBe(true);
      expect(v.verified).toEqual([true, true]);
      expect(v.tampered).toEqual([false, false]);
      expect(v.extra_from_top).toEqual([false, false]);
      expect(v.extra_from_bottom).toEqual([false, false]);
    }
  }, 60_000);
});

describe("dkimpy: h= covers List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 §4)", () => {
  test("the relay's own one-click fields and a sender's own are both signed: verified as sent, failed when either is changed, removed or added to", async () => {
    const ours = await postJson(s.relay, s.tenant.apiKey, "/v1/messages", { from: "alice@example.com", to: ["erin@dest.test"], subject: "our link", text: "news\n", list_unsubscribe: true });
    expect(ours.status).toBe(202);
    const headers = { "List-Unsubscribe": "<https://example.com/leave/1>, <mailto:leave@example.com>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
    const theirs = await postJson(s.relay, s.tenant.apiKey, "/v1/messages", { from: "alice@example.com", to: ["frank@dest.test"], subject: "their link", text: "news\n", headers });
    expect(theirs.status).toBe(202);
    for (const [to, link] of [["erin@dest.test", /List-Unsubscribe: <https:\/\/relay\.example\.net\/u\/[A-Za-z0-9_.-]+>/], ["frank@dest.test", /List-Unsubscribe: <https:\/\/example\.com\/leave\/1>, <mailto:leave@example\.com>/]] as const) {
      const got = await waitFor(`delivery to ${to}`, () => s.upstream.received.find((r) => r.rcptTo.includes(to)));
      expect(got.raw.toString("latin1")).toMatch(link);
      const v = (await dkimpy(got.raw, records, VERIFY_LIST)) as unknown as { h: string[]; verified: boolean[]; url_changed: boolean[]; post_removed: boolean[]; post_added: boolean[] };
      expect(v.h).toHaveLength(2);
      for (const h of v.h) {
        const names = h.toLowerCase().split(":").map((x) => x.trim());
        expect(names.filter((n) => n === "list-unsubscribe")).toHaveLength(2);
        expect(names.filter((n) => n === "list-unsubscribe-post")).toHaveLength(2);
      }
      expect(v.verified).toEqual([true, true]);
      expect(v.url_changed).toEqual([false, false]);
      expect(v.post_removed).toEqual([false, false]);
      expect(v.post_added).toEqual([false, false]);
    }
  }, 60_000);
});
