/**
 * Reads SMTP replies (RFC 5321 §4.2) from a byte stream: multi-line replies joined, every
 * read under a deadline, end of stream an error — a silent or vanished server never hangs
 * delivery.
 */
import type { Reply } from "../core/reply.ts";
import type { Stage } from "../core/delivery-result.ts";

export class UpstreamError extends Error {
  constructor(message: string, readonly stage: Stage, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** `work`, or an UpstreamError when it takes longer than `ms`. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string, stage: Stage): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamError(`timeout ${what} during ${stage}`, stage)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3}) /;
// A reply longer than this is not an SMTP reply.
const MAX_REPLY_BYTES = 64 * 1024;

export class ReplyReader {
  private buf = "";
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; releaseLock(): void };
  private readonly decoder = new TextDecoder("utf-8");

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  release(): void {
    this.reader.releaseLock();
  }

  async read(timeoutMs: number, stage: Stage): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line(timeoutMs, stage);
      const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!m) throw new UpstreamError(`malformed reply during ${stage}: ${line.slice(0, 100)}`, stage);
      lines.push(m[3]!);
      if (m[2] !== "-") {
        const code = Number(m[1]);
        const enhanced = ENHANCED.exec(lines[0]!)?.[1];
        const text = enhanced ? lines.map((l) => l.replace(ENHANCED, "")) : lines;
        return { code, enhanced: enhanced && enhanced[0] === m[1]![0] ? enhanced : undefined, lines: text };
      }
    }
  }

  private async line(timeoutMs: number, stage: Stage): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lf = this.buf.indexOf("\n");
      if (lf >= 0) {
        const line = this.buf.slice(0, lf).replace(/\r$/, "");
        this.buf = this.buf.slice(lf + 1);
        return line;
      }
      if (this.buf.length > MAX_REPLY_BYTES) throw new UpstreamError(`reply too long during ${stage}`, stage);
      const left = deadline - Date.now();
      if (left <= 0) throw new UpstreamError(`timeout waiting for reply during ${stage}`, stage);
      const { value, done } = await withDeadline(this.reader.read(), left, "waiting for reply", stage);
      if (done) throw new UpstreamError(`connection closed by server during ${stage}`, stage);
      if (value) this.buf += this.decoder.decode(value, { stream: true });
    }
  }
}
