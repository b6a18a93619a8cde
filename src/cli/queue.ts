/** `queue …` commands: look at the queue and act on it. */
import { countMatching, queueAct, type QueueAction } from "../admin/queue-actions.ts";
import { formatTrace, listQueue, showMessage, type QueueRow } from "../admin/queue.ts";
import { isPendingState, PENDING_STATES, type QueueFilter } from "../admin/queue-select.ts";
import { JSON_OPTION, printRows, withDb } from "./io.ts";
import type { Command, Context, Option } from "./table.ts";
import { Failure } from "../core/failure.ts";
import { GroupCommit } from "../db/group-commit.ts";
import { parseSendAt, rescheduleMessage } from "../queue/schedule.ts";

const FILTER: Record<string, Option> = {
  state: { type: "string", value: PENDING_STATES.join("|"), help: "only recipients in this state" },
  account: { type: "string", value: "A", help: "only this account's messages" },
  domain: { type: "string", value: "D", help: "only recipients at this domain" },
};

function filterOf(values: Context["values"]): Omit<QueueFilter, "id"> {
  const f: Omit<QueueFilter, "id"> = {};
  const state = values.state;
  if (typeof state === "string") {
    if (!isPendingState(state)) throw new Failure("invalid", `--state must be one of ${PENDING_STATES.join(", ")}`);
    f.state = state;
  }
  if (typeof values.account === "string") f.account = values.account;
  if (typeof values.domain === "string") f.domain = values.domain;
  return f;
}

/**
 * One message by ID acts at once; a filter (or --all) is a bulk action: the count is
 * printed first, and only --yes acts (`retry --all` acts at once, as its name says).
 */
function action(name: QueueAction, summary: string, extra: Record<string, Option> = {}): Command {
  const all: Record<string, Option> = name === "retry" ? { all: { type: "boolean", help: "every queued and deferred recipient" } } : {};
  return {
    name: `queue ${name}`,
    args: "[ID]",
    summary,
    options: { ...all, ...FILTER, yes: { type: "boolean", help: "act on what a filter matches (without it: only the count)" }, ...extra },
    async run({ config, args, values, out }) {
      const filter = filterOf(values);
      const bulk = Object.keys(filter).length > 0 || values.all === true;
      if (args[0] !== undefined && bulk) throw new Failure("invalid", "give a message ID or a filter, not both");
      if (args[0] === undefined && !bulk) throw new Failure("invalid", `give a message ID or a filter (--account, --domain, --state${name === "retry" ? ", --all" : ""})`);
      const hostname = config.SMARTHOST_HOSTNAME || "localhost";
      return withDb(config, async (db) => {
        if (bulk && values.yes !== true && !(name === "retry" && values.all === true)) {
          const n = await countMatching(db, name, filter);
          out(`${n.messages} message(s), ${n.recipients} recipient(s) match; add --yes to ${name} them`);
          return 0;
        }
        const r = await queueAct(db, name, args[0] !== undefined ? { id: args[0] } : filter, { now: Date.now(), bounce: values.bounce === true, hostname });
        out(`${name}: ${r.messages} message(s), ${r.recipients} recipient(s)${r.in_delivery ? `; ${r.in_delivery} being delivered now, left as they are` : ""}${r.dsns ? `; ${r.dsns} DSN(s) queued` : ""}`);
        return 0;
      });
    },
  };
}

/** "3 recipients waiting: 1 queued, 1 deferred, 1 held": each counted under its own state, none called queued that is not. */
export function queueSummary(rows: readonly QueueRow[]): string {
  const counts = PENDING_STATES.map((s) => [s, rows.filter((r) => r.state === s).length] as const).filter(([, n]) => n > 0);
  return `${rows.length} recipient${rows.length === 1 ? "" : "s"} waiting: ${counts.map(([s, n]) => `${n} ${s}`).join(", ")}`;
}

export const queueCommands: Command[] = [
  {
    name: "queue",
    summary: "recipients still to deliver (queued, deferred, held) with attempts and last reply",
    options: { ...FILTER, ...JSON_OPTION },
    async run(ctx) {
      const rows = await withDb(ctx.config, (db) => listQueue(db, filterOf(ctx.values)));
      printRows(ctx, rows, "queue is empty", (r) => ({
        id: r.id,
        state: r.state,
        attempts: r.attempts,
        // A held recipient waits for release, not for a time.
        next_attempt: r.state === "held" ? "on release" : r.next_attempt_at,
        account: r.account,
        from: r.mail_from === "" ? "<>" : r.mail_from,
        recipient: r.recipient,
        last_reply: r.last_reply,
      }));
      if (!ctx.values.json && rows.length > 0) ctx.out(queueSummary(rows));
      return 0;
    },
  },
  {
    name: "queue show",
    args: "ID",
    summary: "one message's whole trace: envelope, each recipient, each attempt with the upstream reply and TLS outcome",
    options: JSON_OPTION,
    async run({ config, args, values, out }) {
      const t = await withDb(config, (db) => showMessage(db, args[0]!));
      out(values.json ? JSON.stringify(t) : formatTrace(t));
      return 0;
    },
  },
  action("retry", "make queued and deferred recipients due now"),
  action("hold", "keep recipients back: a held recipient is never delivered until released"),
  action("release", "release held recipients, due now"),
  action("delete", "remove recipients from the queue (an event is recorded)", { bounce: { type: "boolean", help: "send the sender one DSN per message" } }),
  {
    name: "queue reschedule",
    args: "ID",
    summary: "a new send time for a message not sent yet (scheduled or still waiting for its first attempt)",
    options: { at: { type: "string", value: "RFC3339", help: "when to send it, at most 30 days ahead (e.g. 2030-01-01T09:00:00Z)" } },
    async run({ config, args, values, out }) {
      if (typeof values.at !== "string") throw new Failure("invalid", "--at RFC3339 is required");
      const sendAt = parseSendAt(values.at, Date.now(), "--at");
      await withDb(config, (db) => rescheduleMessage(new GroupCommit(db.$client), { id: args[0]!, accountId: null, sendAt, now: Date.now() }));
      out(`rescheduled: ${args[0]} not sent before ${new Date(sendAt).toISOString()}`);
      return 0;
    },
  },
];
