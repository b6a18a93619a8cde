/** @jsxImportSource hono/jsx */
/**
 * Setup pages for who may send: accounts (limits, over-limit), SMTP credentials and API keys
 * (the secret shown once), sender rules and trusted networks. Each calls the src/admin
 * function that `smarthost account|credential|key|sender|network` and /v1/admin call.
 */
import type { Hono } from "hono";
import * as v from "valibot";
import { addAccount, addApiKey, addCredential, allowNetwork, allowSender } from "../admin/accounts.ts";
import { listAccounts, removeAccount, updateAccount } from "../admin/account-manage.ts";
import { listCredentials, removeCredential, rotateCredential } from "../admin/credentials.ts";
import { listKeys, revokeKey } from "../admin/keys.ts";
import { listNetworks, listSenders, removeNetwork, removeSender } from "../admin/rules.ts";
import type { Db } from "../db/client.ts";
import { apiKeyId } from "../policy/api-keys.ts";
import type { DashboardEnv } from "./auth.tsx";
import { accountField, checkbox, editLink, editing, limit, limitValue, optionalText, removal, required, rowAction, setupPage } from "./setup-kit.tsx";
import { Failure } from "../core/failure.ts";
import type { Field } from "./views/setup-form.tsx";
import { SetupTable } from "./views/setup-form.tsx";

export interface AccessDeps {
  db: Db;
  hostname: string;
  now: () => number;
}

const OVER_LIMIT = [
  ["refuse", "refuse it (451 / HTTP 429)"],
  ["hold", "accept and hold it until the window allows"],
] as const;

const LIST_UNSUBSCRIBE = [
  ["one-click", "one-click (RFC 8058) when the message has none"],
  ["off", "off"],
] as const;
const ALIGNMENT = [
  ["no", "warn only"],
  ["yes", "refuse unaligned mail"],
] as const;

/** What an account's edit form holds: every setting `account update` changes. */
const accountSettings: Field[] = [
  { name: "per_minute", label: "Messages per minute", kind: "number", hint: "empty: no limit" },
  { name: "per_day", label: "Messages per day", kind: "number", hint: "empty: no limit" },
  { name: "recipients_per_day", label: "Recipients per day", kind: "number", hint: "empty: no limit" },
  { name: "over_limit", label: "Mail over the limits", kind: "select", options: OVER_LIMIT },
  { name: "hold_backlog", label: "Held at most", kind: "number", hint: "with hold; empty: 10000" },
  { name: "list_unsubscribe", label: "List-Unsubscribe", kind: "select", options: LIST_UNSUBSCRIBE },
  { name: "require_alignment", label: "From: not aligned for DMARC", kind: "select", options: ALIGNMENT },
];


export function accessSetupRoutes(app: Hono<DashboardEnv>, { db, hostname, now }: AccessDeps): void {
  setupPage(app, {
    slug: "accounts",
    title: "Accounts",
    legend: "New account",
    submit: "Create account",
    fields: async () => [
      { name: "name", label: "Name", kind: "text", required: true, hint: "letters, digits, '.', '_' or '-'" },
      { name: "per_minute", label: "Messages per minute", kind: "number", hint: "empty: no limit" },
      { name: "per_day", label: "Messages per day", kind: "number", hint: "empty: no limit" },
      { name: "recipients_per_day", label: "Recipients per day", kind: "number", hint: "empty: no limit" },
      { name: "over_limit", label: "Mail over the limits", kind: "select", options: OVER_LIMIT },
    ],
    schema: v.object({
      name: required("Name"),
      per_minute: limit("Messages per minute"),
      per_day: limit("Messages per day"),
      recipients_per_day: limit("Recipients per day"),
      over_limit: v.optional(v.picklist(["refuse", "hold"], "Mail over the limits: refuse or hold"), "refuse"),
    }),
    create: async (b) => {
      await addAccount(db, b.name, { perMinute: b.per_minute, perDay: b.per_day, recipientsPerDay: b.recipients_per_day });
      if (b.over_limit === "hold") await updateAccount(db, b.name, { overLimit: "hold" });
      return { done: `account ${b.name} created` };
    },
    list: async (csrf) => (
      <SetupTable
        slug="accounts"
        csrf={csrf}
        head={["account", "per minute", "per day", "recipients per day", "over the limits", "created"]}
        empty="No accounts."
        extra={<label class="check"><input type="checkbox" name="force" value="1" /> and its queued mail</label>}
        rows={(await listAccounts(db)).map((a) => ({ cells: [a.name, a.per_minute ?? "-", a.per_day ?? "-", a.recipients_per_day ?? "-", a.over_limit, a.created_at], remove: { name: a.name }, edit: editLink("accounts", { name: a.name }) }))}
      />
    ),
  }, hostname);
  editing(app, {
    slug: "accounts",
    keys: ["name"],
    legend: ({ name }) => `Account ${name}`,
    fields: () => accountSettings,
    load: async ({ name }) => {
      const a = (await listAccounts(db)).find((r) => r.name === name);
      if (!a) throw new Failure("not-found", `no account named "${name}"`);
      return { per_minute: limitValue(a.per_minute), per_day: limitValue(a.per_day), recipients_per_day: limitValue(a.recipients_per_day), over_limit: a.over_limit, hold_backlog: limitValue(a.hold_backlog), list_unsubscribe: a.list_unsubscribe, require_alignment: a.require_alignment ? "yes" : "no" };
    },
    schema: v.object({
      per_minute: limit("Messages per minute"),
      per_day: limit("Messages per day"),
      recipients_per_day: limit("Recipients per day"),
      over_limit: v.picklist(["refuse", "hold"], "Mail over the limits: refuse or hold"),
      hold_backlog: limit("Held at most"),
      list_unsubscribe: v.picklist(["one-click", "off"], "List-Unsubscribe: one-click or off"),
      require_alignment: v.picklist(["yes", "no"], "DMARC alignment: yes or no"),
    }),
    update: async ({ name }, b) => {
      const a = await updateAccount(db, name, { perMinute: b.per_minute, perDay: b.per_day, recipientsPerDay: b.recipients_per_day, overLimit: b.over_limit, holdBacklog: b.hold_backlog, listUnsubscribe: b.list_unsubscribe, requireAlignment: b.require_alignment === "yes" });
      return `account ${a.name} saved: ${a.per_minute ?? "none"} per minute, ${a.per_day ?? "none"} per day, ${a.recipients_per_day ?? "none"} recipients per day, over the limits: ${a.over_limit}`;
    },
  }, "Accounts", hostname);
  removal(app, {
    slug: "accounts",
    schema: v.object({ name: required("Account"), force: checkbox() }),
    remove: async (b) => {
      const r = await removeAccount(db, b.name, b.force);
      return `account ${r.name} removed with ${r.credentials} credential(s), ${r.api_keys} API key(s), ${r.senders} sender rule(s), ${r.networks} network(s)${r.dropped_recipients ? `, ${r.dropped_recipients} queued recipient(s) dropped` : ""}`;
    },
  });

  setupPage(app, {
    slug: "credentials",
    title: "SMTP credentials",
    legend: "New SMTP credential",
    submit: "Create credential",
    fields: async () => [
      await accountField(db),
      { name: "username", label: "Username", kind: "text", required: true },
      { name: "password", label: "Password", kind: "password", secret: true, hint: "empty: one is generated and shown once" },
    ],
    schema: v.object({ account: required("Account"), username: required("Username"), password: optionalText() }),
    create: async (b) => {
      const generated = await addCredential(db, b.account, b.username, b.password);
      return { done: `credential ${b.username} added to ${b.account}`, secret: generated ? { label: `Password for ${b.username}`, value: generated } : undefined };
    },
    list: async (csrf) => (
      <SetupTable slug="credentials" csrf={csrf} head={["username", "account", "created"]} empty="No SMTP credentials."
        rows={(await listCredentials(db)).map((r) => ({ cells: [r.username, r.account, r.created_at], remove: { username: r.username }, actions: [{ verb: "rotate", fields: { username: r.username } }] }))} />
    ),
    // A new generated password, shown once; the old one stops at once (as `credential rotate`).
    actions: [
      rowAction("rotate", v.object({ username: required("Username") }), async (b) => ({
        done: `credential ${b.username}: new password; the old one no longer works`,
        secret: { label: `Password for ${b.username}`, value: (await rotateCredential(db, b.username))! },
      })),
    ],
  }, hostname);
  removal(app, {
    slug: "credentials",
    schema: v.object({ username: required("Username") }),
    remove: async (b) => {
      await removeCredential(db, b.username);
      return `credential ${b.username} removed`;
    },
  });

  setupPage(app, {
    slug: "keys",
    title: "API keys",
    legend: "New API key",
    submit: "Create key",
    fields: async () => [await accountField(db)],
    schema: v.object({ account: required("Account") }),
    create: async (b) => {
      const key = await addApiKey(db, b.account);
      return { done: `API key ${apiKeyId(key)} made for ${b.account}`, secret: { label: `API key for ${b.account}`, value: key } };
    },
    list: async (csrf) => (
      <SetupTable slug="keys" csrf={csrf} head={["key id", "account", "created", "last used", "revoked"]} empty="No API keys."
        rows={(await listKeys(db)).map((k) => ({ cells: [<code>{k.id}</code>, k.account, k.created_at, k.last_used_at ?? "never", k.revoked_at ?? ""], remove: k.revoked_at ? undefined : { id: k.id }, verb: "revoke" }))} />
    ),
  }, hostname);
  removal(app, {
    slug: "keys",
    schema: v.object({ id: required("Key id") }),
    remove: async (b) => `API key ${(await revokeKey(db, b.id, now())).id} revoked`,
  });

  setupPage(app, {
    slug: "senders",
    title: "Sender rules",
    legend: "Allow a sender",
    submit: "Allow sender",
    fields: async () => [await accountField(db), { name: "pattern", label: "Sender", kind: "text", required: true, placeholder: "*@example.com", hint: "user@example.com, *@example.com or example.com" }],
    schema: v.object({ account: required("Account"), pattern: required("Sender") }),
    create: async (b) => ({ done: `${b.account} may send as ${await allowSender(db, b.account, b.pattern)}` }),
    list: async (csrf) => (
      <SetupTable slug="senders" csrf={csrf} head={["account", "sender"]} empty="No sender rules."
        rows={(await listSenders(db)).map((r) => ({ cells: [r.account, r.pattern], remove: { account: r.account, pattern: r.pattern } }))} />
    ),
  }, hostname);
  removal(app, {
    slug: "senders",
    schema: v.object({ account: required("Account"), pattern: required("Sender") }),
    remove: async (b) => `${b.account} may no longer send as ${await removeSender(db, b.account, b.pattern)}`,
  });

  setupPage(app, {
    slug: "networks",
    title: "Networks",
    legend: "Trust a network (its clients send as the account without AUTH)",
    submit: "Allow network",
    fields: async () => [await accountField(db), { name: "cidr", label: "Address or network (CIDR)", kind: "text", required: true, placeholder: "192.0.2.0/24" }],
    schema: v.object({ account: required("Account"), cidr: required("Address or network") }),
    create: async (b) => ({ done: `${await allowNetwork(db, b.account, b.cidr)} sends as ${b.account}` }),
    list: async (csrf) => (
      <SetupTable slug="networks" csrf={csrf} head={["account", "network"]} empty="No trusted networks."
        rows={(await listNetworks(db)).map((r) => ({ cells: [r.account, r.cidr], remove: { account: r.account, cidr: r.cidr } }))} />
    ),
  }, hostname);
  removal(app, {
    slug: "networks",
    schema: v.object({ account: required("Account"), cidr: required("Address or network") }),
    remove: async (b) => `${await removeNetwork(db, b.account, b.cidr)} no longer trusted for ${b.account}`,
  });
}
