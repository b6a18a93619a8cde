/**
 * The ingress → gateway link as an attacker on the path would try it: a gateway URL that
 * redirects must not make the ingress send a client's password elsewhere, an answer that
 * is not a gateway's must not be believed, a request captured on the way cannot be sent
 * again, and a configuration that would expose the link does not start.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { addTenant, baseEnv, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { PY_PRELUDE, python } from "../support/python.ts";
import { send, type CapturedRequest } from "../support/handoff.ts";

const TOKEN = "link-test-token-0123456789abcdefghijklmn";
const dirs: string[] = [];
const relays: Relay[] = [];
const servers: { stop(force?: boolean): unknown }[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop();
  for (const s of servers.splice(0)) s.stop(true);
});
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

/** A loopback HTTP server that records what reaches it. */
function recordingServer(answer: (req: Request, body: Uint8Array) => Response | Promise<Response>) {
  const seen: CapturedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = new Uint8Array(await req.arrayBuffer());
      seen.push({ url: req.url, headers: Object.fromEntries(req.headers), body });
      return answer(req, body);
    },
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.port}`, seen };
}

async function ingressTo(gatewayUrl: string): Promise<Relay> {
  const dir = tempDir();
  dirs.push(dir);
  const r = await startRelay(dir, {
    SMARTHOST_GATEWAY_URL: gatewayUrl,
    SMARTHOST_GATEWAY_TOKEN: TOKEN,
    SMARTHOST_HTTP_LISTEN: "",
    SMARTHOST_DB_URL: "file:/nonexistent/never-opened.db",
    SMARTHOST_ALLOW_INSECURE_AUTH: "true",
  });
  relays.push(r);
  return r;
}

/** AUTH PLAIN through the ingress; returns the reply code. */
const authCode = (port: number, user = "alice", password = "correct horse battery") =>
  python<number>(
    `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo()
code, _ = s.docmd('AUTH', 'PLAIN ' + base64.b64encode(('\\0' + sys.argv[2] + '\\0' + sys.argv[3]).encode()).decode())
out(code)`,
    [port, user, password],
  );

describe("the ingress believes only its gateway", () => {
  test("a 307 from the gateway URL does not make the ingress re-POST the credentials elsewhere", async () => {
    const elsewhere = recordingServer(() => Response.json({ ok: true, principal: { username: "alice", accountId: "acct", grant: "x.y" } }));
    const redirecting = recordingServer((req) => new Response(null, { status: 307, headers: { location: `${elsewhere.url}${new URL(req.url).pathname}` } }));
    const ingress = await ingressTo(redirecting.url);
    expect(await authCode(ingress.smtpPort)).toBe(454);
    // identify at EHLO, then the AUTH: both redirected, neither followed.
    expect(redirecting.seen.map((r) => new URL(r.url).pathname)).toEqual(["/internal/smtp/identify", "/internal/smtp/auth"]);
    expect(elsewhere.seen).toHaveLength(0);
    // What did reach the redirecting server holds no reusable secret: no token header.
    for (const r of redirecting.seen) {
      expect(r.headers.authorization).toBeUndefined();
      expect(JSON.stringify(r.headers)).not.toContain(TOKEN);
    }
    expect(ingress.logs()).toContain('"event":"handoff_failed"');
  }, 30_000);

  test("an answer that is not a gateway's reply is not believed", async () => {
    const answers: unknown[] = [
      { ok: true }, // the reproduction: a bare {ok:true} made the ingress say 235
      { ok: true, principal: { username: "alice", accountId: "acct" } }, // no grant
      { ok: true, principal: { username: "alice", accountId: "acct", grant: "x.y" } }, // well-formed, but not signed by a token holder
      { ok: false, reply: { code: 235, enhanced: "2.7.0", lines: ["fine"] } }, // a "refusal" that reads as success
      { ok: false, reply: { code: 535, enhanced: "5.7.8", lines: ["bad\r\n250 injected"] } }, // a line break into the client's stream
    ];
    let i = 0;
    const fake = recordingServer((req) => Response.json(req.url.endsWith("/identify") ? { principal: null } : answers[i++]));
    const ingress = await ingressTo(fake.url);
    for (const _ of answers) expect(await authCode(ingress.smtpPort)).toBe(454);
    expect(fake.seen.filter((r) => r.url.endsWith("/auth"))).toHaveLength(answers.length);
  }, 30_000);
});

describe("a captured request", () => {
  test("sent again to the gateway is refused, while the original went through", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const tenant = await addTenant(dir);
    const gateway = await startRelay(dir, { SMARTHOST_GATEWAY_TOKEN: TOKEN });
    relays.push(gateway);
    // A forwarding proxy on the path that keeps a copy of everything.
    const proxy = recordingServer(async (req, body) => {
      const res = await fetch(`${gateway.http}${new URL(req.url).pathname}`, { method: "POST", headers: req.headers, body, redirect: "manual" });
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    });
    const ingress = await ingressTo(proxy.url);
    expect(await authCode(ingress.smtpPort, tenant.username, tenant.password)).toBe(235);
    const captured = proxy.seen.find((r) => r.url.endsWith("/auth"))!;
    expect(new TextDecoder().decode(captured.body)).toContain(tenant.password);
    const replay = await send({ ...captured, url: `${gateway.http}/internal/smtp/auth` });
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ error: { code: "replayed_request", message: "Request was already received" } });
  }, 30_000);
});

test("a gateway's earlier answer replayed by a man in the middle is not believed", async () => {
  const dir = tempDir();
  dirs.push(dir);
  const tenant = await addTenant(dir);
  const gateway = await startRelay(dir, { SMARTHOST_GATEWAY_TOKEN: TOKEN });
  relays.push(gateway);
  let kept: { status: number; headers: Headers; body: ArrayBuffer } | null = null;
  const mitm = recordingServer(async (req, body) => {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/auth") && kept) return new Response(kept.body, { status: kept.status, headers: kept.headers });
    const res = await fetch(`${gateway.http}${path}`, { method: "POST", headers: req.headers, body, redirect: "manual" });
    const answer = { status: res.status, headers: res.headers, body: await res.arrayBuffer() };
    if (path.endsWith("/auth")) kept = answer;
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });
  const ingress = await ingressTo(mitm.url);
  expect(await authCode(ingress.smtpPort, tenant.username, tenant.password)).toBe(235);
  // Now the wrong password; the middle man answers with the success it kept.
  expect(await authCode(ingress.smtpPort, tenant.username, "wrong password")).toBe(454);
  expect(ingress.logs()).toContain("answer is not signed by the gateway");
}, 30_000);

describe("start-up refuses a link that could be abused", () => {
  /** `serve` with `env`; a relay that starts anyway is stopped (by its PID) after a few seconds. */
  const startWith = async (env: Record<string, string>) => {
    const dir = tempDir();
    dirs.push(dir);
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts"), "serve"], {
      env: baseEnv(dir, { SMARTHOST_HTTP_LISTEN: "", ...env }),
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    const guard = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(guard);
    return { code, stderr };
  };

  test("a gateway token shorter than 32 bytes", async () => {
    const r = await startWith({ SMARTHOST_GATEWAY_TOKEN: "short-token-31-bytes-0123456789" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SMARTHOST_GATEWAY_TOKEN must be at least 32 bytes");
  }, 30_000);

  test("an http:// gateway URL that is not loopback, or one with credentials in it", async () => {
    for (const url of ["http://gateway.example:8787", "http://10.0.0.5:8787", "https://user:pass@gateway.example", "ftp://gateway.example"]) {
      const r = await startWith({ SMARTHOST_GATEWAY_URL: url, SMARTHOST_GATEWAY_TOKEN: TOKEN });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("SMARTHOST_GATEWAY_URL must be an https:// URL");
    }
  }, 30_000);
});
