/**
 * The pinned webhook POST for Bun and Node: it connects to the addresses it is given, not to
 * what the URL's name resolves to, and still verifies TLS for that name. Two servers on one
 * port of 127.0.0.2 (given) and 127.0.0.1 (what "localhost" resolves to) tell them apart.
 */
import { afterEach, expect, test } from "bun:test";
import { pinnedPost } from "../../../src/runtime/node-webhook-post.ts";
import type { WebhookInit } from "../../../src/webhooks/sender.ts";
import { startPair, type ServerPair } from "../../support/loopback-pair.ts";
import { certificate } from "../../support/tls-outcomes.ts";

let pair: ServerPair | undefined;
let stopExtra: (() => Promise<void>) | undefined;
afterEach(async () => {
  await pair?.stop();
  await stopExtra?.();
  pair = undefined;
  stopExtra = undefined;
});

const init = (body = '{"type":"x"}', timeoutMs = 10_000): WebhookInit => ({
  method: "POST",
  headers: { "content-type": "application/json", "webhook-id": "evt_1" },
  body,
  redirect: "manual",
  signal: AbortSignal.timeout(timeoutMs),
});

test("https: connects to the given address, with the URL's name as server name and certificate name", async () => {
  const tls = await certificate(["localhost"]);
  pair = await startPair(tls);
  const res = await pinnedPost({ ca: tls.cert })(`https://localhost:${pair.port}/in`, init(), ["127.0.0.2"]);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("checked");
  expect(pair.checked).toEqual([{ path: "/in", host: `localhost:${pair.port}`, body: '{"type":"x"}' }]);
  expect(pair.rebound).toEqual([]);
});

test("https: a certificate for another name is refused although the address was given", async () => {
  const tls = await certificate(["elsewhere.test"]);
  pair = await startPair(tls);
  const err = await pinnedPost({ ca: tls.cert })(`https://localhost:${pair.port}/in`, init(), ["127.0.0.2"]).catch((e: unknown) => e);
  expect((err as { code?: string }).code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
  expect(pair.checked).toEqual([]);
  expect(pair.rebound).toEqual([]);
});

test("https: without the test's CA the self-signed certificate is not trusted", async () => {
  const tls = await certificate(["localhost"]);
  pair = await startPair(tls);
  const err = await pinnedPost()(`https://localhost:${pair.port}/in`, init(), ["127.0.0.2"]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  expect(pair.checked).toEqual([]);
});

test("a connection that lands anywhere but a given address is closed before the request goes", async () => {
  pair = await startPair();
  // An IP literal is connected to without a lookup: the peer check is what stops it.
  const err = await pinnedPost()(`http://127.0.0.1:${pair.port}/in`, init(), ["127.0.0.2"]).catch((e: unknown) => e);
  expect((err as { code?: string }).code).toBe("ERR_PEER_NOT_CHECKED");
  expect(pair.rebound).toEqual([]);
  expect(pair.checked).toEqual([]);
});

test("the answer: status, headers and a body that can be read in part and cancelled", async () => {
  const big = "x".repeat(1 << 20);
  const server = Bun.serve({
    hostname: "127.0.0.2",
    port: 0,
    fetch: (req) => (new URL(req.url).pathname === "/empty" ? new Response(null, { status: 204 }) : new Response(big, { status: 503, headers: { "retry-after": "120" } })),
  });
  stopExtra = () => server.stop(true);
  const post = pinnedPost();
  const res = await post(`http://localhost:${server.port}/busy`, init(), ["127.0.0.2"]);
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toBe("120");
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(first.value!.byteLength).toBeGreaterThan(0);
  await reader.cancel();
  const empty = await post(`http://localhost:${server.port}/empty`, init(), ["127.0.0.2"]);
  expect(empty.status).toBe(204);
  expect(empty.body).toBeNull();
});

test("no answer by the deadline rejects with the signal's TimeoutError", async () => {
  let arrived!: () => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const server = Bun.serve({
    hostname: "127.0.0.2",
    port: 0,
    fetch: () => {
      arrived();
      return new Promise<Response>(() => {});
    },
  });
  stopExtra = () => server.stop(true);
  const pending = pinnedPost()(`http://localhost:${server.port}/slow`, init("{}", 200), ["127.0.0.2"]).catch((e: unknown) => e);
  await reached;
  expect(((await pending) as Error).name).toBe("TimeoutError");
});
