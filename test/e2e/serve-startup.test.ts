/** `smarthost serve` when a listen address is taken: one line, exit 1, nothing left running. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { loadConfig } from "../../src/config.ts";
import { serve } from "../../src/serve.ts";
import { freeTcpPort } from "../support/ports.ts";
import { addTenant, baseEnv, cli, openDb, removeDir, startRelay, tempDir, type Tenant } from "../support/relay.ts";

/** A TCP server on a free loopback port; `connections` counts who connected. */
async function occupy(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port, connections: () => n };
}

const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

/** True when the port can be bound right now (nothing holds it). */
async function bindable(port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

let dir: string;
let tenant: Tenant;
beforeAll(async () => {
  dir = tempDir();
  tenant = await addTenant(dir);
});
afterAll(() => removeDir(dir));

describe("a listen address in use", () => {
  for (const variable of ["SMARTHOST_HTTP_LISTEN", "SMARTHOST_SMTP_LISTEN", "SMARTHOST_SMTPS_LISTEN"]) {
    test(`${variable}: one line on stderr, exit 1`, async () => {
      const taken = await occupy();
      try {
        const r = await cli(dir, ["serve"], { [variable]: `127.0.0.1:${taken.port}` });
        expect(r.code).toBe(1);
        // One line: no stack frame, and nothing logged as started (the test machine's name
        // is not fully qualified: the start-up warning about it is not what is checked here).
        const lines = r.stderr.split("\n").filter((l) => !l.includes('"event":"hostname_warning"'));
        expect(lines.join("\n")).toBe(`error: 127.0.0.1:${taken.port} is in use (${variable})\n`);
      } finally {
        await close(taken.server);
      }
    });
  }

  test("nothing is left running: delivery never starts and the listeners bound before are closed again", async () => {
    // A message waiting for delivery, through a route to a server that counts connections.
    const upstream = await occupy();
    const relay = await startRelay(dir);
    try {
      const res = await fetch(`${relay.http}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ from: "app@example.com", to: ["someone@dest.test"], subject: "waiting", text: "x" }),
      });
      expect(res.status).toBe(202);
    } finally {
      await relay.stop();
    }
    const taken = await occupy();
    const [smtp, http] = [await freeTcpPort(), await freeTcpPort()];
    const config = loadConfig(
      baseEnv(dir, {
        SMARTHOST_SMTP_LISTEN: `127.0.0.1:${smtp}`,
        SMARTHOST_HTTP_LISTEN: `127.0.0.1:${http}`,
        SMARTHOST_SMTPS_LISTEN: `127.0.0.1:${taken.port}`,
        SMARTHOST_DELIVERY: "true",
        SMARTHOST_DELIVERY_POLL_MS: "20",
        SMARTHOST_UPSTREAM: `smtp://127.0.0.1:${upstream.port}`,
        SMARTHOST_LOG: "silent",
      }),
    );
    try {
      const failure = await serve(config).then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).toMatchObject({ kind: "config", code: "listen" });
      expect((failure as Error).message).toBe(`127.0.0.1:${taken.port} is in use (SMARTHOST_SMTPS_LISTEN)`);
      // The HTTP and SMTP listeners bound before the failure are closed again.
      expect(await bindable(http)).toBe(true);
      expect(await bindable(smtp)).toBe(true);
      // A started worker would lease the due recipient and connect at once (it polls every
      // 20 ms); give it many times that to show it never ran.
      await Bun.sleep(500);
      expect(upstream.connections()).toBe(0);
      const db = openDb(`file:${dir}/smarthost.db`);
      const row = (await db.execute("SELECT attempts, lease_owner FROM recipients")).rows[0]!;
      db.close();
      expect(row.attempts).toBe(0);
      expect(row.lease_owner).toBeNull();
    } finally {
      await close(taken.server);
      await close(upstream.server);
    }
  });
});
