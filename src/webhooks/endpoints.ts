/**
 * Webhook endpoints per account: add (the secret is made here, sealed, and returned once),
 * list, change, rotate (the old secret keeps signing for 24 h), remove.
 */
import type { Sql } from "../db/raw.ts";
import { isEventType } from "../events/types.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { newId } from "../smtp/ids.ts";
import { checkWebhookUrl } from "./destination.ts";
import { generateWebhookSecret } from "./sign.ts";
import { Failure } from "../core/failure.ts";

/** Receivers update their secret within this; until then both signatures go out. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;


export interface Endpoint {
  id: string;
  accountId: string;
  url: string;
  events: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  previousUntil: number | null;
  createdAt: number;
}

/** The sealed secret is bound to its endpoint: copied into another row, it does not open. */
export const secretPurpose = (endpointId: string) => `webhook-secret:${endpointId}`;

const COLUMNS = "id, account_id, url, events, enabled, disabled_reason, previous_until, created_at";

function rowOf(r: Record<string, unknown>): Endpoint {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    url: String(r.url),
    events: r.events === null || r.events === undefined ? null : String(r.events).split(","),
    enabled: Number(r.enabled) === 1,
    disabledReason: (r.disabled_reason as string | null) ?? null,
    previousUntil: r.previous_until === null || r.previous_until === undefined ? null : Number(r.previous_until),
    createdAt: Number(r.created_at),
  };
}

/** Null (every type) or a checked list of known types. */
export function eventFilter(events: readonly string[] | null | undefined): string | null {
  if (events === null || events === undefined || events.length === 0) return null;
  const bad = events.find((e) => !isEventType(e));
  if (bad !== undefined) throw new Failure("invalid", `unknown event type ${JSON.stringify(bad.slice(0, 60))}`, { code: "invalid_webhook" });
  return [...new Set(events)].join(",");
}

const url = checkWebhookUrl;

export async function addEndpoint(sql: Sql, box: SecretBox, accountId: string, input: { url: string; events?: readonly string[] | null }, allowPrivate: boolean, now: number): Promise<{ endpoint: Endpoint; secret: string }> {
  const id = `wh_${newId(16)}`;
  const target = url(input.url, allowPrivate);
  const events = eventFilter(input.events);
  const secret = generateWebhookSecret();
  await sql.execute({
    sql: "INSERT INTO webhook_endpoints (id, account_id, url, events, secret, enabled, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
    args: [id, accountId, target, events, await box.seal(secret, secretPurpose(id)), now],
  });
  return { endpoint: (await getEndpoint(sql, accountId, id))!, secret };
}

/** `accountId` null: any account's (the operator's CLI). */
export async function getEndpoint(sql: Sql, accountId: string | null, id: string): Promise<Endpoint | null> {
  const rs = await sql.execute({ sql: `SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = ?${accountId === null ? "" : " AND account_id = ?"}`, args: accountId === null ? [id] : [id, accountId] });
  return rs.rows[0] ? rowOf(rs.rows[0]) : null;
}

export async function listEndpoints(sql: Sql, accountId: string | null): Promise<Endpoint[]> {
  const rs = await sql.execute({ sql: `SELECT ${COLUMNS} FROM webhook_endpoints${accountId === null ? "" : " WHERE account_id = ?"} ORDER BY created_at, id`, args: accountId === null ? [] : [accountId] });
  return rs.rows.map(rowOf);
}

export async function updateEndpoint(sql: Sql, accountId: string, id: string, change: { url?: string; events?: readonly string[] | null; enabled?: boolean }, allowPrivate: boolean): Promise<Endpoint | null> {
  const sets: string[] = [];
  const args: (string | number | null)[] = [];
  if (change.url !== undefined) sets.push("url = ?"), args.push(url(change.url, allowPrivate));
  if (change.events !== undefined) sets.push("events = ?"), args.push(eventFilter(change.events));
  // Enabling again starts a fresh failure window; disabling by hand says so.
  if (change.enabled === true) sets.push("enabled = 1, disabled_reason = NULL, failing_since = NULL");
  if (change.enabled === false) sets.push("enabled = 0, disabled_reason = 'disabled by the account'");
  if (sets.length > 0) await sql.execute({ sql: `UPDATE webhook_endpoints SET ${sets.join(", ")} WHERE id = ? AND account_id = ?`, args: [...args, id, accountId] });
  return getEndpoint(sql, accountId, id);
}

/** A new secret (returned once); the current one keeps signing for ROTATION_OVERLAP_MS. */
export async function rotateEndpoint(sql: Sql, box: SecretBox, accountId: string | null, id: string, now: number): Promise<string | null> {
  const rs = await sql.execute({ sql: `SELECT secret FROM webhook_endpoints WHERE id = ?${accountId === null ? "" : " AND account_id = ?"}`, args: accountId === null ? [id] : [id, accountId] });
  const current = rs.rows[0]?.secret;
  if (typeof current !== "string") return null;
  const secret = generateWebhookSecret();
  await sql.execute({
    sql: "UPDATE webhook_endpoints SET previous_secret = ?, previous_until = ?, secret = ? WHERE id = ?",
    args: [current, now + ROTATION_OVERLAP_MS, await box.seal(secret, secretPurpose(id)), id],
  });
  return secret;
}

/** Removes the endpoint with its deliveries and their attempts. */
export async function removeEndpoint(sql: Sql, accountId: string | null, id: string): Promise<boolean> {
  const rs = await sql.execute({ sql: `DELETE FROM webhook_endpoints WHERE id = ?${accountId === null ? "" : " AND account_id = ?"} RETURNING id`, args: accountId === null ? [id] : [id, accountId] });
  if (rs.rows.length === 0) return false;
  await sql.execute({ sql: "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?)", args: [id] });
  await sql.execute({ sql: "DELETE FROM webhook_deliveries WHERE endpoint_id = ?", args: [id] });
  return true;
}

/** The JSON form (API and `--json`); never the secret. */
export function endpointJson(e: Endpoint, now: number) {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    previous_secret_valid_until: e.previousUntil !== null && e.previousUntil > now ? new Date(e.previousUntil).toISOString() : null,
    created_at: new Date(e.createdAt).toISOString(),
  };
}
