/** `smarthost webhook add|list|rotate|remove`, and the same over the admin API. */
import type { SecretBox } from "../secrets/cipher.ts";
import { addEndpoint, endpointJson, listEndpoints, removeEndpoint, rotateEndpoint } from "../webhooks/endpoints.ts";
import { accountIdByName } from "./accounts.ts";
import { writerOf, type FeedbackDb } from "./suppressions.ts";
import { Failure, isFailure } from "../core/failure.ts";

/** Returns the endpoint's id and its secret (to be shown once). `events`: a list, or "a,b" as typed; absent: all. */
export async function addWebhook(d: FeedbackDb, box: SecretBox, account: string, url: string, events: string | readonly string[] | undefined, allowPrivate: boolean): Promise<{ id: string; secret: string }> {
  const accountId = await accountIdByName(d.db, account);
  const list = events === undefined ? null : (typeof events === "string" ? events.split(",") : events).map((e) => e.trim()).filter((e) => e !== "");
  try {
    const { endpoint, secret } = await writerOf(d).write((sql) => addEndpoint(sql, box, accountId, { url, events: list }, allowPrivate, Date.now()));
    return { id: endpoint.id, secret };
  } catch (err) {
    if (isFailure(err, "invalid")) throw new Failure("invalid", err.message);
    throw err;
  }
}

/** Every endpoint (of one account, or all) with its account's name; never a secret. */
export async function webhookRows(d: FeedbackDb, account: string | undefined) {
  const accountId = account === undefined ? null : await accountIdByName(d.db, account);
  const names = new Map((await d.sql.execute("SELECT id, name FROM accounts")).rows.map((r) => [String(r.id), String(r.name)]));
  const now = Date.now();
  return (await listEndpoints(d.sql, accountId)).map((e) => ({ ...endpointJson(e, now), account: names.get(e.accountId) ?? e.accountId }));
}

export async function rotateWebhook(d: FeedbackDb, box: SecretBox, id: string): Promise<string> {
  const secret = await writerOf(d).write((sql) => rotateEndpoint(sql, box, null, id, Date.now()));
  if (!secret) throw new Failure("not-found", `no webhook ${id}`);
  return secret;
}

export async function removeWebhook(d: FeedbackDb, id: string): Promise<void> {
  if (!(await writerOf(d).write((sql) => removeEndpoint(sql, null, id)))) throw new Failure("not-found", `no webhook ${id}`);
}
