/** /v1/admin/queue: the queue, one message's trace, and the actions (by message or in bulk by filter). */
import { Hono } from "hono";
import * as v from "valibot";
import type { Db } from "../../db/client.ts";
import type { GroupCommit } from "../../db/group-commit.ts";
import { countMatching, queueAct, type QueueAction } from "../../admin/queue-actions.ts";
import { listQueue, showMessage } from "../../admin/queue.ts";
import { adminDoc } from "./admin-doc.ts";
import { body, query } from "./admin-http.ts";
import * as s from "./admin-schemas.ts";
import { Failure } from "../../core/failure.ts";
import { parseSendAt, rescheduleMessage } from "../../queue/schedule.ts";

const ACTIONS: Record<QueueAction, string> = {
  retry: "Make queued and deferred recipients due now",
  hold: "Hold recipients: never delivered until released",
  release: "Release held recipients, due now",
  delete: "Remove recipients from the queue; bounce=true sends the sender one DSN per message",
};

const filters = [
  { name: "state", description: "queued, deferred or held", example: "deferred" },
  { name: "account", description: "only this account's messages", example: "acme" },
  { name: "domain", description: "only recipients at this domain", example: "example.org" },
];

export function queueAdminRoutes(db: Db, writer: GroupCommit, hostname: string, now: () => number): Hono {
  const app = new Hono();
  app.get("/", adminDoc({ tag: "queue", summary: "Recipients still to deliver, soonest due first", query: [...filters, { name: "limit", description: "at most this many (default 1000, at most 10000)", example: "100" }], ok: v.array(s.QueueRow), errors: [400, 404] }), async (c) => {
    const { limit, ...filter } = query(c, s.QueueQuery);
    return c.json(await listQueue(db, filter, limit));
  });
  for (const [action, summary] of Object.entries(ACTIONS) as [QueueAction, string][]) {
    // Bulk by filter: without yes, only the count (as the CLI prints before acting).
    app.post(`/${action}`, adminDoc({ tag: "queue", summary: `${summary} (bulk: by filter, or all for retry; only the count unless yes)`, body: s.BulkAction, example: { domain: "example.org", state: "deferred", yes: true }, ok: v.union([s.ActionResult, s.BulkCount]), errors: [400, 404] }), async (c) => {
      const b = await body(c, s.BulkAction);
      const filter = { state: b.state, account: b.account, domain: b.domain };
      const hasFilter = Object.values(filter).some((x) => x !== undefined);
      if (b.all && action !== "retry") throw new Failure("invalid", "all goes with retry only; give a filter");
      if (!hasFilter && !b.all) throw new Failure("invalid", "give a filter (state, account, domain) or, for retry, all");
      if (!b.yes && !(action === "retry" && b.all)) return c.json({ acted: false as const, ...(await countMatching(db, action, filter)) });
      return c.json(await queueAct(db, action, filter, { now: now(), bounce: b.bounce, hostname, writer }));
    });
  }
  app.get("/:id", adminDoc({ tag: "queue", summary: "One message's whole trace: envelope, recipients, every attempt with the upstream reply", params: { id: "01JD5W3Q2M8Z" }, ok: s.MessageTrace, errors: [404] }), async (c) => c.json(await showMessage(db, c.req.param("id"))));
  for (const [action, summary] of Object.entries(ACTIONS) as [QueueAction, string][]) {
    app.post(`/:id/${action}`, adminDoc({ tag: "queue", summary: `${summary} (one message)`, params: { id: "01JD5W3Q2M8Z" }, body: s.MessageAction, example: action === "delete" ? { bounce: true } : {}, ok: s.ActionResult, errors: [400, 404] }), async (c) => {
      const b = await body(c, s.MessageAction);
      return c.json(await queueAct(db, action, { id: c.req.param("id") }, { now: now(), bounce: b.bounce, hostname, writer }));
    });
  }
  app.post("/:id/reschedule", adminDoc({ tag: "queue", summary: "A new send_at for a message not sent yet (409 once its first attempt was made)", params: { id: "01JD5W3Q2M8Z" }, body: s.Reschedule, example: { send_at: "2030-01-01T09:00:00Z" }, ok: s.MessageTrace, errors: [400, 404, 409] }), async (c) => {
    const b = await body(c, s.Reschedule);
    const id = c.req.param("id");
    await rescheduleMessage(writer, { id, accountId: null, sendAt: parseSendAt(b.send_at, now()), now: now() });
    return c.json(await showMessage(db, id));
  });
  return app;
}
