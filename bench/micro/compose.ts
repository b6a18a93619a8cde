/**
 * JSON submissions: building the MIME message with the direct writer vs MailComposer (the
 * same fields, both paths in this process, alternating rounds, median), then the whole
 * route — POST /v1/messages through app.request() on a real libSQL file, commit included —
 * with the code as it is (the direct writer).
 *
 *   node_modules/.bin/bun bench/micro/compose.ts [messages=2000] [rounds=5]
 *
 * Body: text + html, as the HTTP target ("JSON with text+html").
 */
import { join } from "node:path";
import { addAccount, addApiKey, allowSender } from "../../src/admin/accounts.ts";
import { loadConfig } from "../../src/config.ts";
import { createGatewayStack } from "../../src/stack.ts";
import { composeWithMailComposer } from "../../src/mime/compose.ts";
import type { Composition } from "../../src/mime/composition.ts";
import { writeMime } from "../../src/mime/direct.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import { removeDir, tempDir } from "../../test/support/relay.ts";

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);
const CONCURRENCY = 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const body = {
  from: "Alice <alice@example.com>",
  to: ["bob@dest.test"],
  subject: "Your order has shipped",
  text: "Hello Bob,\n\nyour order 12345 has shipped and will arrive on Tuesday.\n\nThanks,\nThe shop\n",
  html: "<p>Hello Bob,</p><p>your order <b>12345</b> has shipped and will arrive on Tuesday.</p><p>Thanks,<br>The shop</p>",
};
const composition: Composition = {
  from: { name: "Alice", address: "alice@example.com", domain: "example.com", utf8: false },
  to: [{ name: null, address: "bob@dest.test", domain: "dest.test", utf8: false }],
  cc: [],
  replyTo: [],
  subject: body.subject,
  text: body.text,
  html: body.html,
  headers: {},
  attachments: [],
  messageIdDomain: "example.com",
};

async function rate(one: () => Promise<unknown>): Promise<number> {
  let left = N;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await one();
    }),
  );
  return (N / (performance.now() - t0)) * 1000;
}

// 1. Composing alone, both paths.
const direct = async () => writeMime(composition, "<m@example.com>", new Date());
const composer = () => composeWithMailComposer(composition, "<m@example.com>", new Date());
await rate(direct);
await rate(composer);
const d: number[] = [];
const m: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  d.push(await rate(direct));
  m.push(await rate(composer));
}
console.log(`compose text+html: direct ${median(d).toFixed(0)}/s (${(1000 / median(d)).toFixed(3)} ms), MailComposer ${median(m).toFixed(0)}/s (${(1000 / median(m)).toFixed(3)} ms); rounds direct ${d.map((x) => x.toFixed(0)).join("/")}, MailComposer ${m.map((x) => x.toFixed(0)).join("/")}`);

// 2. The whole route, in-process.
const dir = tempDir("smarthost-bench-");
const database = await openDatabase(`file:${join(dir, "b.db")}`);
try {
  await addAccount(database.db, "bench", { perMinute: null, perDay: null });
  await allowSender(database.db, "bench", "example.com");
  const key = await addApiKey(database.db, "bench");
  const config = loadConfig({ SMARTHOST_DB_URL: `file:${join(dir, "b.db")}`, SMARTHOST_HOSTNAME: "bench.test" });
  const writer = new GroupCommit(database.sql);
  const { app } = createGatewayStack({ config, database, writer, hostname: "bench.test", log: () => {} });
  const json = JSON.stringify(body);
  const post = async () => {
    const res = await app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: json });
    if (res.status !== 202) throw new Error(`${res.status} ${await res.text()}`);
  };
  await rate(post);
  const rs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rs.push(await rate(post));
  const per = 1000 / median(rs);
  console.log(`POST /v1/messages (text+html, ${CONCURRENCY} in flight, commit included): ${median(rs).toFixed(0)}/s (${per.toFixed(3)} ms each); rounds ${rs.map((x) => x.toFixed(0)).join("/")}`);
  const withComposer = per - 1000 / median(d) + 1000 / median(m);
  console.log(`  the same with MailComposer's compose time instead (estimate): ${(1000 / withComposer).toFixed(0)}/s`);
} finally {
  database.close();
  removeDir(dir);
}
