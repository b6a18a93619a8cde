/** `suppression …` and `webhook …` commands: what senders hear back, managed by the operator. */
import { suppressAddress, suppressionRows, unsuppressAddress } from "../admin/suppressions.ts";
import { addWebhook, removeWebhook, rotateWebhook, webhookRows } from "../admin/webhooks.ts";
import { JSON_OPTION, printRows, withDatabase } from "./io.ts";
import type { Command } from "./table.ts";

export const feedbackCommands: Command[] = [
  {
    name: "suppression list",
    args: "[ACCOUNT]",
    summary: "suppressed addresses (bounces, complaints, manual) with their expiry",
    options: JSON_OPTION,
    async run(ctx) {
      const rows = await withDatabase(ctx.config, (d) => suppressionRows(d, ctx.args[0]));
      printRows(ctx, rows, "no suppressed addresses", (r) => ({ account: r.account, address: r.address, reason: r.reason, since: r.created_at, until: r.expires_at ?? "no expiry", message: r.message_id }));
      return 0;
    },
  },
  {
    name: "suppression add",
    args: "ACCOUNT ADDRESS",
    summary: "stop sending to an address (or *@domain) for an account, until removed",
    async run({ config, args, out }) {
      out(`${await withDatabase(config, (d) => suppressAddress(d, args[0]!, args[1]!))} suppressed for account ${args[0]}`);
      return 0;
    },
  },
  {
    name: "suppression remove",
    args: "ACCOUNT ADDRESS",
    summary: "send to an address again",
    async run({ config, args, out }) {
      await withDatabase(config, (d) => unsuppressAddress(d, args[0]!, args[1]!));
      out(`${args[1]} removed from the suppression list of ${args[0]}`);
      return 0;
    },
  },
  {
    name: "webhook add",
    args: "ACCOUNT URL",
    summary: "a signed webhook endpoint; prints its whsec_ secret alone on the last line (once)",
    options: { events: { type: "string", value: "a,b", help: "only these event types (default: all)" } },
    async run({ config, args, values, out }) {
      const events = typeof values.events === "string" ? values.events : undefined;
      const w = await withDatabase(config, (d, secrets) => addWebhook(d, secrets, args[0]!, args[1]!, events, config.SMARTHOST_ALLOW_PRIVATE_WEBHOOKS));
      out(`webhook ${w.id} added for account ${args[0]}; its signing secret (shown once):`);
      out(w.secret);
      return 0;
    },
  },
  {
    name: "webhook list",
    args: "[ACCOUNT]",
    summary: "webhook endpoints (never their secrets)",
    options: JSON_OPTION,
    async run(ctx) {
      const rows = await withDatabase(ctx.config, (d) => webhookRows(d, ctx.args[0]));
      printRows(ctx, rows, "no webhooks", (r) => ({
        id: r.id,
        account: r.account,
        state: r.enabled ? "enabled" : `disabled: ${r.disabled_reason ?? "by the operator"}`,
        events: r.events ?? "all",
        created_at: r.created_at,
        url: r.url,
      }));
      return 0;
    },
  },
  {
    name: "webhook rotate",
    args: "ID",
    summary: "a new signing secret (the old one keeps signing for 24 hours); printed alone on the last line",
    async run({ config, args, out }) {
      const secret = await withDatabase(config, (d, secrets) => rotateWebhook(d, secrets, args[0]!));
      out(`webhook ${args[0]}: new signing secret (shown once); the old one keeps signing for 24 hours:`);
      out(secret);
      return 0;
    },
  },
  {
    name: "webhook remove",
    args: "ID",
    summary: "remove an endpoint and its pending deliveries",
    async run({ config, args, out }) {
      await withDatabase(config, (d) => removeWebhook(d, args[0]!));
      out(`webhook ${args[0]} removed`);
      return 0;
    },
  },
];
