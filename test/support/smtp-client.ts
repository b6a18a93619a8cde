/** A bare SMTP dialog over a socket, for byte-exact tests real clients cannot express. */
import { connect, type Socket } from "node:net";

export class RawSmtp {
  private data = "";
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (d) => {
      this.data += d.toString("latin1");
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("error", () => {});
  }

  static open(port: number): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(new RawSmtp(s)));
      s.once("error", reject);
    });
  }

  write(text: string | Uint8Array): void {
    this.socket.write(text);
  }

  /** Waits for `n` complete replies beyond what was taken; returns them (last lines). */
  async replies(n: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = this.complete();
      if (done.length >= n || this.closed || Date.now() > deadline) {
        const taken = done.slice(0, n);
        this.consume(taken.length);
        return taken;
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Everything received and not yet taken. */
  pending(): string {
    return this.data;
  }

  private complete(): string[] {
    return this.data.split("\r\n").filter((l) => /^\d{3} /.test(l));
  }

  private consume(n: number): void {
    let lines = this.data.split("\r\n");
    let seen = 0;
    let i = 0;
    for (; i < lines.length && seen < n; i++) if (/^\d{3} /.test(lines[i]!)) seen++;
    lines = lines.slice(i);
    this.data = lines.join("\r\n");
  }

  /** Resolves when the connection has closed (at once if it has); fails after `timeoutMs`. */
  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
