/** `smarthost webhook add|list|rotate|remove`. */
import type { Database } from "../db/client.ts";
import { GroupCommit } from "../queue/group-commit.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { addEndpoint, endpointJson, listEndpoints, removeEndpoint, rotateEndpoint, WebhookInputError } from "../webhooks/endpoints.ts";
import { accountIdByName } from "./accounts.ts";
import { AdminError } from "./errors.ts";

/** Returns the endpoint's id and its secret (to be shown once). */
export async function addWebhook(d: Database, box: SecretBox, account: string, url: string, events: string | undefined, allowPrivate: boolean): Promise<{ id: string; secret: string }> {
  const accountId = await accountIdByName(d.db, account);
  const list = events === undefined ? null : events.split(",").map((e) => e.trim()).filter((e) => e !== "");
  try {
    const { endpoint, secret } = await new GroupCommit(d.sql).write((sql) => addEndpoint(sql, box, accountId, { url, events: list }, allowPrivate, Date.now()));
    return { id: endpoint.id, secret };
  } catch (err) {
    if (err instanceof WebhookInputError) throw new AdminError(err.message);
    throw err;
  }
}

export async function webhookListing(d: Database, account: string | undefined, json: boolean): Promise<string> {
  const accountId = account === undefined ? null : await accountIdByName(d.db, account);
  const names = new Map((await d.sql.execute("SELECT id, name FROM accounts")).rows.map((r) => [String(r.id), String(r.name)]));
  const now = Date.now();
  const rows = (await listEndpoints(d.sql, accountId)).map((e) => ({ ...endpointJson(e, now), account: names.get(e.accountId) ?? e.accountId }));
  if (json) return JSON.stringify(rows);
  if (rows.length === 0) return "no webhooks";
  return rows
    .map((r) => `${r.id}\t${r.account}\t${r.url}\t${r.events?.join(",") ?? "all events"}\t${r.enabled ? "enabled" : `disabled (${r.disabled_reason})`}`)
    .join("\n");
}

export async function rotateWebhook(d: Database, box: SecretBox, id: string): Promise<string> {
  const secret = await new GroupCommit(d.sql).write((sql) => rotateEndpoint(sql, box, null, id, Date.now()));
  if (!secret) throw new AdminError(`no webhook ${id}`);
  return secret;
}

export async function removeWebhook(d: Database, id: string): Promise<void> {
  if (!(await new GroupCommit(d.sql).write((sql) => removeEndpoint(sql, null, id)))) throw new AdminError(`no webhook ${id}`);
}
