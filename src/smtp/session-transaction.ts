/**
 * The mail transaction (RFC 5321 §3.3): MAIL, RCPT, then the message by DATA or BDAT
 * chunks (RFC 3030), committed through the handler before the 250.
 */
import { parseMailArgument, parseRcptArgument } from "./arguments.ts";
import { chunkBody, dataBody } from "./body.ts";
import { ChunkReader } from "./chunk-reader.ts";
import { newId } from "./ids.ts";
import { replies } from "../core/reply.ts";
import type { SessionState, Transaction } from "./session-state.ts";
import { receivedHeader } from "./trace.ts";

export async function mail(s: SessionState, arg: string): Promise<void> {
  if (!s.helo) return s.send(replies.badSequence("Send HELO/EHLO first"));
  if (s.tx) return s.send(replies.badSequence("Nested MAIL command"));
  const parsed = parseMailArgument(arg, s.config.maxMessageBytes);
  if ("code" in parsed) return s.send(parsed);
  const refusal = await s.handler.checkSender(s.info, parsed.from, parsed.params);
  if (refusal) return s.send(refusal);
  s.tx = { id: newId(), from: parsed.from, params: parsed.params, recipients: [], chunks: null };
  s.send(replies.senderOk);
}

export async function rcpt(s: SessionState, arg: string): Promise<void> {
  const tx = s.tx;
  if (!tx) return s.send(replies.badSequence("Need MAIL command"));
  const parsed = parseRcptArgument(arg, tx.params.smtputf8);
  if ("code" in parsed) return s.send(parsed);
  if (tx.recipients.length >= s.config.maxRecipients) return s.send(replies.tooManyRecipients);
  const refusal = await s.handler.checkRecipient(s.info, s.envelope(tx), parsed.to, parsed.params);
  if (refusal) return s.send(refusal);
  tx.recipients.push({ mailbox: parsed.to, params: parsed.params });
  s.send(replies.recipientOk);
}

export function data(s: SessionState, arg: string): void {
  if (arg.trim()) return s.send(replies.syntax("DATA takes no argument"));
  const tx = s.tx;
  if (!tx) return s.send(replies.badSequence("Need MAIL command"));
  if (tx.chunks) return s.send(replies.badSequence("DATA cannot follow BDAT"));
  if (tx.recipients.length === 0) return s.send(replies.noValidRecipients);
  s.body = dataBody(s.config.maxMessageBytes);
  s.mode = "body";
  s.send(replies.startData);
}

export function bdat(s: SessionState, arg: string): void {
  const m = /^(\d{1,15})(?: +(LAST))? *$/i.exec(arg);
  // Without a size the chunk cannot be skipped, so the dialog cannot stay in step.
  if (!m) return s.closeWith(replies.syntax("Syntax: BDAT size [LAST]"));
  const tx = s.tx;
  const refusal = !tx ? replies.badSequence("Need MAIL command") : tx.recipients.length === 0 ? replies.noValidRecipients : null;
  const reader = tx && !refusal ? (tx.chunks ??= new ChunkReader(s.config.maxMessageBytes)) : null;
  s.body = chunkBody(reader, Number(m[1]), m[2] !== undefined, refusal, s.config.maxMessageBytes);
  s.mode = "body";
}

/** Feeds buffered input to the message body; false when more input is needed. */
export async function takeBody(s: SessionState): Promise<boolean> {
  const body = s.body!;
  s.buf = s.buf.subarray(body.feed(s.buf));
  if (!body.done) return false;
  s.mode = "command";
  s.body = null;
  const end = body.end(() => traceHeader(s, s.tx!));
  if (end.kind === "message") await commit(s, end.bytes);
  else {
    if (end.endsTransaction) s.tx = null;
    s.send(end.reply);
  }
  return true;
}

function traceHeader(s: SessionState, tx: Transaction): Uint8Array {
  return new TextEncoder().encode(receivedHeader(s.config.hostname, s.info, s.envelope(tx), tx.id, new Date()));
}

/** Hands the whole message (trace header first) to the handler; 250 once it is committed. */
async function commit(s: SessionState, message: Uint8Array): Promise<void> {
  const tx = s.tx!;
  s.tx = null;
  const envelope = s.envelope(tx);
  const outcome = await s.handler.accept(s.info, envelope, message, tx.id);
  if (!outcome.ok) return s.send(outcome.reply);
  s.log("accepted", { session: s.sessionId, id: outcome.id, size: message.length, rcpts: envelope.recipients.length });
  s.send(replies.queued(outcome.id));
}
