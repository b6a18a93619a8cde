/**
 * One-click unsubscribe at acceptance (RFC 8058, RFC 2369): the List-Unsubscribe and
 * List-Unsubscribe-Post fields the relay adds before signing, so DKIM's h= covers them
 * (RFC 8058 §4; dkim/sign.ts lists both), and the warnings a sender gets instead.
 *
 * A link unsubscribes exactly one address: the token names the message and its one
 * recipient. One stored message is one set of bytes for all its recipients, so the relay
 * adds a link only to a message stored for a single recipient; with several, whichever
 * recipient clicked would unsubscribe them all (or one chosen for them), so no link is
 * added and the answer says why (send one message per recipient, as bulk senders do).
 */
import type { Logger } from "../core/log.ts";
import { appendHeaderFields, listHeaders, oneClickFields } from "../mime/list-unsubscribe.ts";
import { removeHeaderFields } from "../policy/message-headers.ts";
import { makeUnsubscribeToken, type TokenMac } from "../suppression/unsubscribe-token.ts";

/** Where links point (SMARTHOST_PUBLIC_URL, no trailing slash) and the key that signs them. */
export interface UnsubscribeLinks {
  baseUrl: string;
  mac: TokenMac;
}

/** Something the sender should know about an accepted message (the HTTP answer's `warnings`). */
export interface AcceptWarning {
  code: string;
  message: string;
}

export interface UnsubscribeRequest {
  /** The account setting, or the message's own `list_unsubscribe`. */
  wanted: boolean;
  links: UnsubscribeLinks | undefined;
  accountId: string;
  messageId: string;
  recipients: readonly { address: string }[];
}

const LIST_FIELDS: ReadonlySet<string> = new Set(["list-unsubscribe"]);

/** The path of a link: `/u/TOKEN` under SMARTHOST_PUBLIC_URL (gateway/routes/unsubscribe.ts). */
export const UNSUBSCRIBE_PATH = "/u";

/** The message with the one-click fields added where they apply, and what the sender is told. */
export async function withListUnsubscribe(raw: Uint8Array, r: UnsubscribeRequest): Promise<{ raw: Uint8Array; warnings: AcceptWarning[] }> {
  const h = listHeaders(raw);
  if (!r.wanted) {
    // Gmail and Yahoo (2024) refuse bulk mail without one-click unsubscribe.
    const warnings = h.bulk && !h.list ? [{ code: "bulk_without_unsubscribe", message: "Precedence: bulk/list without List-Unsubscribe: large mailbox providers refuse such mail; turn on list_unsubscribe (or the account's --list-unsubscribe one-click)" }] : [];
    return { raw, warnings };
  }
  // The sender's own one-click: left as it is (signed all the same).
  if (h.post) return { raw, warnings: [] };
  if (!r.links) {
    return { raw, warnings: [{ code: "list_unsubscribe_unavailable", message: "List-Unsubscribe not added: this node has no SMARTHOST_PUBLIC_URL" }] };
  }
  if (r.recipients.length !== 1) {
    return { raw, warnings: [{ code: "list_unsubscribe_one_recipient", message: `List-Unsubscribe not added: a one-click link names one recipient and this message has ${r.recipients.length}; send one message per recipient` }] };
  }
  const token = await makeUnsubscribeToken(r.links.mac, { accountId: r.accountId, messageId: r.messageId, address: r.recipients[0]!.address });
  // RFC 8058 §3.1 posts to the HTTPS URI; the sender's other URIs than mailto: would be ambiguous beside ours.
  const without = h.list ? removeHeaderFields(raw, LIST_FIELDS) : raw;
  return { raw: appendHeaderFields(without, oneClickFields(`${r.links.baseUrl}${UNSUBSCRIBE_PATH}/${token}`, h.mailto)), warnings: [] };
}

/** One log line per accepted message that carries warnings. */
export function logWarnings(log: Logger | undefined, messageId: string, accountId: string, warnings: readonly AcceptWarning[]): void {
  if (log && warnings.length > 0) log("accept_warning", { message_id: messageId, account_id: accountId, warnings: warnings.map((w) => w.code) });
}
