/** GET /v1/messages: filters and cursor pagination that stays exact while mail keeps arriving. */
import { describe, expect, test } from "bun:test";
import { postMessage } from "../support/api.ts";
import { useRelay } from "../support/relay.ts";

const f = useRelay();
const auth = () => ({ authorization: `Bearer ${f.tenant.apiKey}` });

async function send(to: string, subject: string): Promise<string> {
  const res = await postMessage(f.relay.http, f.tenant.apiKey, { from: "alice@example.com", to: [to], subject, text: "x" });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

interface Page {
  data: { id: string; status: string; created_at: string; recipients: { address: string; state: string }[] }[];
  next_cursor: string | null;
}

async function list(query: string): Promise<Page> {
  const res = await fetch(`${f.relay.http}/v1/messages?${query}`, { headers: auth() });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe("message search", () => {
  test("250 messages in pages of 100: newest first, no duplicate, no gap, while new mail arrives", async () => {
    const original: string[] = [];
    // In batches, so the accepts share group commits and some share a millisecond (the id breaks ties).
    for (let i = 0; i < 250; i += 25) original.push(...(await Promise.all(Array.from({ length: 25 }, (_, j) => send(`r${i + j}@dest.test`, `m${i + j}`)))));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list(`limit=100${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.data.map((m) => m.id));
      const times = page.data.map((m) => Date.parse(m.created_at));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      cursor = page.next_cursor;
      pages++;
      // New mail between pages lands before the first page, never in the ones still to come.
      await Promise.all(Array.from({ length: 10 }, (_, j) => send(`late${pages}-${j}@dest.test`, "late")));
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual([...original].sort());
  }, 60_000);

  test("filters: recipient, status, since/until; bad values are 400", async () => {
    const id = await send("Unique.Person@dest.test", "find me");
    const byRcpt = await list("recipient=unique.person@dest.test");
    expect(byRcpt.data.map((m) => m.id)).toEqual([id]);
    expect(byRcpt.data[0]!.recipients).toEqual([{ address: "Unique.Person@dest.test", state: "queued" }]);
    expect((await list("recipient=unique.person@dest.test&status=queued")).data).toHaveLength(1);
    expect((await list("recipient=unique.person@dest.test&status=delivered")).data).toHaveLength(0);
    const created = Date.parse(byRcpt.data[0]!.created_at);
    expect((await list(`recipient=unique.person@dest.test&since=${new Date(created).toISOString()}`)).data).toHaveLength(1);
    expect((await list(`recipient=unique.person@dest.test&until=${new Date(created).toISOString()}`)).data).toHaveLength(0);
    for (const q of ["status=lost", "since=yesterday", "limit=101", "cursor=garbage"]) {
      const res = await fetch(`${f.relay.http}/v1/messages?${q}`, { headers: auth() });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^invalid_/);
    }
    expect((await fetch(`${f.relay.http}/v1/messages`)).status).toBe(401);
  }, 30_000);
});
