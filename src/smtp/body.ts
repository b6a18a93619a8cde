/**
 * Reading a message body after DATA (dot-terminated) or one BDAT chunk (counted octets,
 * RFC 3030), and what to answer when it ends: the message to commit, or the reply.
 */
import { ChunkReader } from "./chunk-reader.ts";
import { DotDecoder, type DataProblem } from "./dot-decoder.ts";
import { replies, type Reply } from "../core/reply.ts";

export type BodyEnd =
  | { kind: "message"; bytes: Uint8Array }
  /** `endsTransaction`: the transaction is over (refused message), not just this chunk. */
  | { kind: "reply"; reply: Reply; endsTransaction: boolean };

export interface BodyIntake {
  /** Consumes input; returns how many octets were used. */
  feed(bytes: Uint8Array): number;
  readonly done: boolean;
  /** `prefix` gives the bytes to put before the message (the trace header), only when there is one. */
  end(prefix: () => Uint8Array): BodyEnd;
}

function refused(problem: DataProblem, max: number): BodyEnd {
  const reply = problem === "too-big" ? replies.tooBig(max) : problem === "line-too-long" ? replies.messageLineTooLong : replies.messageBareLineEnding;
  return { kind: "reply", reply, endsTransaction: true };
}

export function dataBody(max: number): BodyIntake {
  const dot = new DotDecoder(max);
  return {
    feed: (bytes) => dot.feed(bytes),
    get done() {
      return dot.done;
    },
    end(prefix) {
      if (dot.problem) return refused(dot.problem, max);
      const message = dot.message(prefix());
      return message ? { kind: "message", bytes: message } : refused(dot.problem!, max);
    },
  };
}

/**
 * One BDAT chunk into the transaction's reader. A refused chunk (no transaction, no
 * recipients) is still read, into a reader that keeps nothing (RFC 3030 §2).
 */
export function chunkBody(reader: ChunkReader | null, size: number, last: boolean, refusal: Reply | null, max: number): BodyIntake {
  const r = refusal || !reader ? new ChunkReader(0) : reader;
  r.begin(size);
  return {
    feed: (bytes) => r.feed(bytes),
    get done() {
      return r.chunkDone;
    },
    end(prefix) {
      if (refusal) return { kind: "reply", reply: refusal, endsTransaction: false };
      if (r.problem === "too-big") return refused("too-big", max);
      if (!last) return { kind: "reply", reply: replies.chunkOk(r.totalSize), endsTransaction: false };
      const message = r.finish(prefix());
      return message ? { kind: "message", bytes: message } : refused(r.problem!, max);
    },
  };
}
