/** One outbound mail transaction over an open dialog (smtp-dialog.ts): MAIL, RCPT…, DATA. */
import type { RecipientResult, Stage } from "../core/delivery-result.ts";
import type { Reply } from "../core/reply.ts";
import { classifyRecipients, classifyReply } from "./classify.ts";
import { encodeDataParts, hasEightBit as containsNonAscii } from "./encode.ts";
import { failIfNot, SessionFailed, type Dialog } from "./smtp-dialog.ts";

/** One message as the client sends it: its envelope and the stored bytes. */
export interface OutboundMessage {
  /** "" for the null reverse-path. */
  mailFrom: string;
  recipients: { address: string; notify?: string | null; orcpt?: string | null }[];
  raw: Uint8Array;
  smtputf8: boolean;
  envid?: string | null;
  ret?: string | null;
}

function mailCommand(d: Dialog, m: OutboundMessage): string {
  const params: string[] = [`SIZE=${m.raw.length}`];
  if (d.extensions.has("8BITMIME") && containsNonAscii(m.raw)) params.push("BODY=8BITMIME");
  if (m.smtputf8) params.push("SMTPUTF8");
  if (d.extensions.has("DSN")) {
    if (m.ret) params.push(`RET=${m.ret}`);
    if (m.envid) params.push(`ENVID=${m.envid}`);
  }
  if (!d.extensions.has("SIZE")) params.shift();
  return `MAIL FROM:<${m.mailFrom}>${params.length ? ` ${params.join(" ")}` : ""}`;
}

function rcptCommand(d: Dialog, r: OutboundMessage["recipients"][number]): string {
  const params: string[] = [];
  if (d.extensions.has("DSN")) {
    if (r.notify) params.push(`NOTIFY=${r.notify}`);
    if (r.orcpt) params.push(`ORCPT=${r.orcpt}`);
  }
  return `RCPT TO:<${r.address}>${params.length ? ` ${params.join(" ")}` : ""}`;
}

/** MAIL, RCPT…, DATA — pipelined when the server offers PIPELINING (RFC 2920). */
export async function transaction(d: Dialog, m: OutboundMessage, relay: boolean): Promise<{ results: RecipientResult[]; completed: boolean }> {
  const mail = mailCommand(d, m);
  const rcpts = m.recipients.map((r) => rcptCommand(d, r));
  let mailReply: Reply;
  const rcptReplies: Reply[] = [];
  let dataReply: Reply | null = null;
  if (d.extensions.has("PIPELINING")) {
    await d.write(`${[mail, ...rcpts, "DATA"].join("\r\n")}\r\n`, d.timeouts.command, "MAIL");
    mailReply = await d.reader.read(d.timeouts.command, "MAIL");
    try {
      for (let i = 0; i < rcpts.length; i++) rcptReplies.push(await d.reader.read(d.timeouts.command, "RCPT"));
      dataReply = await d.reader.read(d.timeouts.command, "DATA");
    } catch (err) {
      // RFC 5321 §3.8: a 421 is followed by the server closing. The replies after it never
      // come; the 421 (a destination's "try later") is the answer, not the closed socket.
      const closing = [mailReply, ...rcptReplies].find((r) => r.code === 421);
      if (closing) throw new SessionFailed("transient", closing, closing === mailReply ? "MAIL" : "RCPT");
      throw err;
    }
  } else {
    mailReply = await d.command(mail, "MAIL");
    if (mailReply.code < 400) for (const r of rcpts) rcptReplies.push(await d.command(r, "RCPT"));
  }
  failIfNot(mailReply, 2, "MAIL", relay);
  const judged = classifyRecipients(rcptReplies, { relay });
  const results: RecipientResult[] = m.recipients.map((r, i) => ({
    address: r.address,
    ...judged[i]!,
    reply: rcptReplies[i]!,
    stage: "RCPT" as const,
  }));
  if (!rcptReplies.some((r) => r.code < 400)) {
    // With PIPELINING a server may still have said 354 to DATA: end that empty message.
    if (dataReply?.code === 354) await d.command(".", "DATA");
    return { results, completed: false };
  }
  dataReply ??= await d.command("DATA", "DATA");
  if (dataReply.code !== 354) return { results: settle(results, dataReply, "DATA", relay), completed: false };
  // The stored bytes go out as they are when they need no dot-stuffing (encode.ts): no copy.
  for (const part of encodeDataParts(m.raw)) await d.write(part, d.timeouts.dataBlock, "end of DATA");
  return { results: settle(results, await d.reader.read(d.timeouts.dataFinal, "end of DATA"), "end of DATA", relay), completed: true };
}

/** The final reply decides every recipient RCPT accepted. */
function settle(results: RecipientResult[], final: Reply, stage: Stage, relay: boolean): RecipientResult[] {
  let { outcome, scope } = classifyReply(final, stage, { relay });
  // Only 354 answers DATA and only 2xx ends it (RFC 5321 §4.3.2): anything else is no acceptance.
  if (outcome === "delivered" && (stage === "DATA" || final.code >= 300)) outcome = "transient";
  return results.map((r) => (r.outcome === "delivered" ? { ...r, outcome, scope, reply: final, stage } : r));
}
