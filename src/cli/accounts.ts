/** `account …` commands. */
import { addAccount } from "../admin/accounts.ts";
import { listAccounts, removeAccount, showAccount, updateAccount } from "../admin/account-manage.ts";
import { JSON_OPTION, limitValue, printRows, withDb } from "./io.ts";
import { complaintSummary, pauseRateValue, resumeAccountByName, setComplaintPause } from "../admin/complaints.ts";
import { accountIdByName } from "../admin/accounts.ts";
import type { Command, Context, Option } from "./table.ts";
import { Failure } from "../core/failure.ts";

/** The three limits, on `add` (a number) and on `update` (a number, or none to remove it). */
const LIMITS = [
  ["per-minute", "messages per minute"],
  ["per-day", "messages per UTC day"],
  ["recipients-per-day", "recipients per UTC day, over all messages"],
] as const;

const limitOptions = (value: string): Record<string, Option> => Object.fromEntries(LIMITS.map(([flag, help]) => [flag, { type: "string", value, help }]));

function limitsFrom(values: Context["values"], allowNone: boolean) {
  const [perMinute, perDay, recipientsPerDay] = LIMITS.map(([flag]) => limitValue(values[flag], flag, allowNone));
  return { perMinute, perDay, recipientsPerDay };
}

/** "on" or "off" for a switch; absent leaves it. */
function onOff(s: string | boolean | undefined, flag: string): boolean | undefined {
  if (typeof s !== "string") return undefined;
  if (s !== "on" && s !== "off") throw new Failure("invalid", `--${flag} must be on or off`);
  return s === "on";
}

export const accountCommands: Command[] = [
  {
    name: "account add",
    args: "NAME",
    summary: "create an account with limits (messages per minute, per day)",
    options: limitOptions("N"),
    async run({ config, args, values, out }) {
      const given = limitsFrom(values, false);
      const limits = { perMinute: given.perMinute ?? null, perDay: given.perDay ?? null, recipientsPerDay: given.recipientsPerDay ?? null };
      await withDb(config, (db) => addAccount(db, args[0]!, limits));
      out(`account ${args[0]} added`);
      return 0;
    },
  },
  {
    name: "account list",
    summary: "every account with its limits",
    options: JSON_OPTION,
    async run(ctx) {
      printRows(ctx, await withDb(ctx.config, (db) => listAccounts(db)), "no accounts");
      return 0;
    },
  },
  {
    name: "account show",
    args: "NAME",
    summary: "one account: use of its limits now, queued mail, credentials, keys, senders, networks",
    options: JSON_OPTION,
    async run({ config, args, values, out }) {
      const a = await withDb(config, (db) => showAccount(db, args[0]!, Date.now()));
      const c = await withDb(config, async (db) => complaintSummary(db, await accountIdByName(db, args[0]!), Date.now()));
      if (values.json) {
        out(JSON.stringify({ ...a, complaints: c }));
        return 0;
      }
      const use = (u: { used: number; limit: number | null }) => `${u.used} of ${u.limit ?? "unlimited"}`;
      out(`account ${a.name} (created ${a.created_at})`);
      out(`  this minute: ${use(a.usage.per_minute)}`);
      out(`  today (UTC): ${use(a.usage.per_day)}`);
      const q = a.queued;
      out(`  to deliver:  ${q.messages} message(s), ${q.recipients} recipient(s)${q.recipients ? `: ${q.queued} queued, ${q.deferred} deferred, ${q.held} held` : ""}`);
      out(`  credentials: ${a.credentials.join(", ") || "-"}`);
      out(`  API keys:    ${a.api_keys.join(", ") || "-"}`);
      out(`  senders:     ${a.senders.join(", ") || "-"}`);
      out(`  networks:    ${a.networks.join(", ") || "-"}`);
      out(`  alignment:   ${a.require_alignment ? "required: mail that will not align for DMARC is refused" : "not required: mail that will not align for DMARC is accepted with a warning"}`);
      const rate = (r: { complaints: number; delivered: number; percent: number | null }) => `${r.percent ?? 0}% (${r.complaints} of ${r.delivered} delivered)`;
      out(`  complaints:  24 h ${rate(c.rate_24h)}, 7 days ${rate(c.rate_7d)}; pause at ${c.pause_on_complaint_rate === null ? "never" : `${c.pause_on_complaint_rate}%`}`);
      if (c.paused_at) out(`  PAUSED since ${c.paused_at}: ${c.paused_reason ?? ""} (account resume ${a.name})`);
      return 0;
    },
  },
  {
    name: "account update",
    args: "NAME",
    summary: "change an account's limits (none removes one)",
    options: {
      ...limitOptions("N|none"),
      "over-limit": { type: "string", value: "refuse|hold", help: "mail over the limits: refused (451/429, the default) or accepted,\nheld and released oldest first as the windows allow" },
      "hold-backlog": { type: "string", value: "N|none", help: "with hold: the most messages held at once before new mail is refused (default 10000)" },
      "pause-on-complaint-rate": { type: "string", value: "P|none", help: "pause the account (new mail refused 451/429, account.paused webhook) when its\ncomplaint rate over 24 h or 7 days reaches P percent (0.3 = 0.3 %)" },
      "list-unsubscribe": { type: "string", value: "one-click|off", help: "add List-Unsubscribe (SMARTHOST_PUBLIC_URL/u/TOKEN) and List-Unsubscribe-Post\n(RFC 8058) to the account's messages that lack them (default off)" },
      "require-alignment": { type: "string", value: "on|off", help: "on: refuse (550 5.7.26 / HTTP 422) mail whose From: domain will not align for\nDMARC (no DKIM key for it, no aligned SPF); off: accept it with a warning (default)" },
    },
    async run({ config, args, values, out }) {
      const pause = values["pause-on-complaint-rate"];
      if (typeof pause === "string") {
        const rate = pauseRateValue(pause);
        await withDb(config, (db) => setComplaintPause(db, args[0]!, rate));
        out(`account ${args[0]}: pause-on-complaint-rate ${rate === null ? "none" : `${rate}%`}`);
        // The pause was the only change asked for.
        if (Object.entries(values).every(([k, v]) => v === undefined || k === "pause-on-complaint-rate" || k === "help")) return 0;
      }
      const over = values["over-limit"];
      const a = await withDb(config, (db) =>
        updateAccount(db, args[0]!, {
          ...limitsFrom(values, true),
          overLimit: typeof over === "string" ? (over as "refuse" | "hold") : undefined,
          holdBacklog: limitValue(values["hold-backlog"], "hold-backlog", true),
          listUnsubscribe: typeof values["list-unsubscribe"] === "string" ? (values["list-unsubscribe"] as "one-click" | "off") : undefined,
          requireAlignment: onOff(values["require-alignment"], "require-alignment"),
        }),
      );
      out(`account ${a.name}: per-minute ${a.per_minute ?? "none"}, per-day ${a.per_day ?? "none"}, recipients-per-day ${a.recipients_per_day ?? "none"}${over !== undefined || a.over_limit === "hold" ? `, over-limit ${a.over_limit}` : ""}${a.over_limit === "hold" ? ` (backlog ${a.hold_backlog ?? 10000})` : ""}${values["list-unsubscribe"] !== undefined || a.list_unsubscribe !== "off" ? `, list-unsubscribe ${a.list_unsubscribe}` : ""}${values["require-alignment"] !== undefined || a.require_alignment ? `, require-alignment ${a.require_alignment ? "on" : "off"}` : ""}`);
      return 0;
    },
  },
  {
    name: "account resume",
    args: "NAME",
    summary: "lift a complaint-rate pause: the account's new mail is accepted again",
    async run({ config, args, out }) {
      await withDb(config, (db) => resumeAccountByName(db, args[0]!));
      out(`account ${args[0]} resumed`);
      return 0;
    },
  },
  {
    name: "account remove",
    args: "NAME",
    summary: "remove an account with its credentials, keys, senders and networks;\nrefused while it has queued mail unless --force (which deletes that mail)",
    options: { force: { type: "boolean", help: "also delete the account's queued mail" } },
    async run({ config, args, values, out }) {
      const r = await withDb(config, (db) => removeAccount(db, args[0]!, values.force === true));
      out(`account ${r.name} removed with ${r.credentials} credential(s), ${r.api_keys} API key(s), ${r.senders} sender rule(s), ${r.networks} network(s)`);
      if (r.dropped_recipients > 0) out(`${r.dropped_recipients} queued recipient(s) deleted`);
      return 0;
    },
  },
];
