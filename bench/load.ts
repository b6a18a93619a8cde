/** Load generators: smtp-source, the TLS client (tls-load.ts), an accept-latency probe, wrk for HTTP, idle connections. */
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTool } from "../test/support/require-tool.ts";

export interface SourceRun {
  seconds: number;
  /** CPU the load generator itself spent (user + system): it shares the machine with the servers. */
  cpuSeconds: number;
  /** Accept latency measured by the generator itself, when it does (the TLS client); else NaN. */
  p50: number;
  p99: number;
}

const cpuOf = (proc: { resourceUsage(): { cpuTime: { total: number | bigint } } | undefined }): number => Number(proc.resourceUsage()?.cpuTime.total ?? NaN) / 1e6;

/** Postfix's smtp-source: `sessions` parallel, `size` bytes each, new connection per message unless `reuse`. */
export async function smtpSource(port: number, n: number, size: number, sessions: number, reuse: boolean): Promise<SourceRun> {
  const bin = requireTool("smtp-source");
  const args = [bin, "-s", String(sessions), "-l", String(size), "-m", String(n), ...(reuse ? ["-d"] : []), "-f", "bench@example.com", "-t", "rcpt@dest.test", `127.0.0.1:${port}`];
  const t0 = performance.now();
  const proc = Bun.spawn(args, { stdout: "ignore", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`smtp-source failed: ${err}`);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuOf(proc), p50: NaN, p99: NaN };
}

/** bench/tls-load.ts in its own process: new connection per message, STARTTLS, AUTH PLAIN when `auth` ("user:password"). */
export async function tlsSource(port: number, n: number, size: number, sessions: number, auth: string | null): Promise<SourceRun> {
  const args = [process.execPath, join(import.meta.dir, "tls-load.ts"), String(port), String(n), String(size), String(sessions), ...(auth ? [auth] : [])];
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`tls-load failed: ${err}`);
  const r = JSON.parse(out) as { seconds: number; failed: number; firstError: string | null; p50: number | null; p99: number | null };
  if (r.failed > 0) throw new Error(`tls-load: ${r.failed} of ${n} messages failed, the first: ${r.firstError}`);
  return { seconds: r.seconds, cpuSeconds: cpuOf(proc), p50: r.p50 ?? NaN, p99: r.p99 ?? NaN };
}

/**
 * Accept latency under load: one message at a time over fresh connections, timing the
 * final "." to its 250 (what a client waits for the commit).
 */
export function latencyProbe(port: number, size: number): { stop(): Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  // RFC 5321 §4.5.3.1.6: lines of at most 1000 octets, or a strict relay refuses the probe at once.
  const line = `${"x".repeat(76)}\r\n`;
  const body = `From: bench@example.com\r\nTo: rcpt@dest.test\r\nSubject: probe\r\n\r\n${line.repeat(Math.max(1, Math.round((size - 80) / line.length)))}`;
  const loop = (async () => {
    while (running) {
      const t = await oneMessage(port, body).catch(() => null);
      if (t !== null) samples.push(t);
      await Bun.sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

function oneMessage(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const steps = ["EHLO probe.test\r\n", "MAIL FROM:<bench@example.com>\r\n", "RCPT TO:<rcpt@dest.test>\r\n", "DATA\r\n", `${body}.\r\n`, "QUIT\r\n"];
    let step = 0;
    let buf = "";
    let sentDot = 0;
    let result = -1;
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(s, d) {
          buf += Buffer.from(d).toString("latin1");
          const lines = buf.split("\r\n");
          buf = lines.pop()!;
          for (const l of lines) {
            if (!/^\d{3} /.test(l)) continue;
            // Only a 250 times a commit; a refusal is no sample.
            if (step === 5 && result < 0) result = l.startsWith("2") ? performance.now() - sentDot : Number.NaN;
            if (step >= steps.length) continue;
            if (step === 4) sentDot = performance.now();
            s.write(steps[step++]!);
          }
        },
        close() {
          if (result >= 0) resolve(result);
          else reject(new Error("probe failed"));
        },
        error(_s, e) {
          reject(e);
        },
      },
    }).catch(reject);
  });
}

export const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export const WRK = { threads: 1, connections: 64, seconds: 10 };

/** The two submission shapes of the contract: JSON fields composed by the server, or a ready RFC 5322 message in base64. */
function submission(kind: "json" | "raw"): { path: string; body: string } {
  if (kind === "json") {
    // Text and HTML, ~2 KiB in all: what an application's notification mail looks like.
    const text = `${"Your order has shipped and will arrive soon. ".repeat(2)}\n`.repeat(10);
    const html = `<html><body>${"<p>Your order has shipped and will arrive <b>soon</b>.</p>".repeat(16)}</body></html>`;
    return { path: "/v1/messages", body: JSON.stringify({ from: "bench@example.com", to: ["rcpt@dest.test"], subject: "bench", text, html }) };
  }
  const line = `${"x".repeat(76)}\r\n`;
  const message = `From: <bench@example.com>\r\nTo: <rcpt@dest.test>\r\nSubject: bench\r\nMessage-ID: <raw@bench.test>\r\n\r\n${line.repeat(23)}`;
  return { path: "/v1/messages/raw", body: JSON.stringify({ mail_from: "bench@example.com", rcpt_to: ["rcpt@dest.test"], raw: Buffer.from(message).toString("base64") }) };
}

/** wrk (one thread: one core at most) POSTing one submission over and over; requests/s and the non-2xx count. */
export async function httpLoad(port: number, apiKey: string, kind: "json" | "raw"): Promise<{ rps: number; errors: number; requests: number }> {
  const wrk = requireTool("wrk");
  const script = join(tmpdir(), `bench-wrk-${process.pid}-${kind}.lua`);
  const { path, body } = submission(kind);
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${apiKey}"\n`,
  );
  const proc = Bun.spawn([wrk, "-t", String(WRK.threads), "-c", String(WRK.connections), "-d", `${WRK.seconds}s`, "-s", script, `http://127.0.0.1:${port}${path}`], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  rmSync(script, { force: true });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, errors, requests };
}

/** Opens `n` SMTP connections that only read the greeting and then sit idle. */
export async function idleConnections(port: number, n: number): Promise<{ greeted: number; close(): void }> {
  const sockets: { end(): void }[] = [];
  let greeted = 0;
  for (let i = 0; i < n; i++) {
    try {
      sockets.push(
        await Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            data() {
              greeted++;
            },
          },
        }),
      );
    } catch {
      break;
    }
    if (i % 500 === 499) await Bun.sleep(20);
  }
  const deadline = Date.now() + 10_000;
  while (greeted < sockets.length && Date.now() < deadline) await Bun.sleep(100);
  return { greeted, close: () => sockets.forEach((s) => s.end()) };
}
