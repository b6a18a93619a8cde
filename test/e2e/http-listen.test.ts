/** SMARTHOST_HTTP_LISTEN: every address in the list is served, with one body limit. */
import { afterAll, expect, test } from "bun:test";
import { httpBodyLimit } from "../../src/config.ts";
import { removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";

const dir = tempDir();
let relay: Relay | undefined;
afterAll(async () => {
  await relay?.stop();
  removeDir(dir);
});

const MAX = 100_000;

test("the HTTP API answers on every address of SMARTHOST_HTTP_LISTEN", async () => {
  relay = await startRelay(dir, { SMARTHOST_HTTP_LISTEN: "127.0.0.1:0, 127.0.0.1:0", SMARTHOST_MAX_MESSAGE_BYTES: String(MAX) });
  const listening = JSON.parse(relay.logs().split("\n").find((l) => l.includes('"listening"'))!) as { http: number[] };
  expect(listening.http.length).toBe(2);
  expect(new Set(listening.http).size).toBe(2);
  for (const port of listening.http) {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  }
});

test("one body limit: up to httpBodyLimit the API reads the request; past it, on every address, a JSON 413", async () => {
  const listening = JSON.parse(relay!.logs().split("\n").find((l) => l.includes('"listening"'))!) as { http: number[] };
  const limit = httpBodyLimit(MAX);
  const post = (port: number, size: number) => fetch(`http://127.0.0.1:${port}/v1/messages`, { method: "POST", body: "x".repeat(size) });
  for (const port of listening.http) {
    // At the limit the request reaches the API (which wants a key first).
    expect((await post(port, limit)).status).toBe(401);
    for (const size of [limit + 1, limit + 512 * 1024]) {
      const res = await post(port, size);
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("too_large");
    }
  }
});
