/** Runs an SmtpSession against scripted input and collects what it says. */
import type { SubmissionHandler, TlsInfo } from "../../src/smtp/handler.ts";
import { SmtpSession } from "../../src/smtp/session.ts";
import type { SessionConfig } from "../../src/smtp/session-types.ts";
import { MemoryHandler } from "./memory-handler.ts";

export const baseConfig: SessionConfig = {
  hostname: "relay.test",
  maxMessageBytes: 10_000,
  maxRecipients: 3,
  maxErrors: 10,
  tlsAvailable: true,
  allowInsecureAuth: true,
};

export class Driver {
  output = "";
  closed = false;
  tlsStarted = 0;
  readonly session: SmtpSession;
  readonly handler: SubmissionHandler;

  constructor(config: Partial<SessionConfig> = {}, handler: SubmissionHandler = new MemoryHandler()) {
    this.handler = handler;
    this.session = new SmtpSession({ ...baseConfig, ...config }, handler, {
      send: (t) => {
        this.output += t;
      },
      startTls: async (): Promise<TlsInfo> => {
        this.tlsStarted++;
        return { protocol: "TLSv1.3", cipher: "TEST" };
      },
      close: () => {
        this.closed = true;
      },
    }, { remoteAddress: "192.0.2.1", remotePort: 40000, localPort: 25, tls: null });
    this.session.start();
  }

  async send(input: string | Uint8Array): Promise<void> {
    const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
    await this.session.receive(bytes);
    // Let a STARTTLS upgrade (resolved on a later tick) finish.
    await new Promise((r) => setTimeout(r, 0));
  }

  /** Reply codes said so far, greeting excluded, one per reply (last line of each). */
  codes(): string[] {
    return this.output
      .split("\r\n")
      .filter((l) => /^\d{3} /.test(l))
      .slice(1)
      .map((l) => l.slice(0, 3));
  }

  lines(): string[] {
    return this.output.split("\r\n").filter((l) => l.length > 0);
  }
}

export const memory = (d: Driver): MemoryHandler => d.handler as MemoryHandler;
export const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");
