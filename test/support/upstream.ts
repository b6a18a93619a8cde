/**
 * A real upstream SMTP server for tests: nodemailer's smtp-server on a free loopback port,
 * with STARTTLS or implicit TLS (a self-signed certificate the test trusts), optional
 * AUTH, scriptable replies per recipient or per attempt, and every message kept.
 */
import { generate } from "selfsigned";
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";

export interface Received {
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
  user?: string;
  secure: boolean;
  mailParams: Record<string, unknown>;
  /** When the message was accepted (ms). */
  at: number;
  /** The name the sending client gave in EHLO/HELO (which node delivered it). */
  helo: string;
}

export interface UpstreamOptions {
  secure?: boolean;
  auth?: { username: string; password: string };
  /** Reply for a recipient: an Error with responseCode refuses it. */
  onRcpt?: (address: string) => { code: number; message: string } | null;
  /** Reply at end of data, by attempt number (1-based) and the transaction's recipients; null accepts. */
  onData?: (attempt: number, recipients: string[]) => { code: number; message: string } | null;
  hideStartTls?: boolean;
  /** Wait this long before answering each message (a slow upstream). */
  delayMs?: number;
  extra?: Partial<SMTPServerOptions>;
  /** Listen on this loopback port (an upstream that comes up where a route already points). */
  port?: number;
}

export interface Upstream {
  port: number;
  cert: string;
  received: Received[];
  attempts: number;
  close(): Promise<void>;
}

let certCache: Promise<{ cert: string; key: string }> | null = null;
export function testCertificate(): Promise<{ cert: string; key: string }> {
  certCache ??= generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    extensions: [{ name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] }],
  }).then((p) => ({ cert: p.cert, key: p.private }));
  return certCache;
}

function refusal(r: { code: number; message: string }): Error {
  return Object.assign(new Error(r.message), { responseCode: r.code });
}

export async function startUpstream(opts: UpstreamOptions = {}): Promise<Upstream> {
  const { cert, key } = await testCertificate();
  const state: Upstream = { port: 0, cert, received: [], attempts: 0, close: async () => {} };
  const server = new SMTPServer({
    secure: opts.secure ?? false,
    key,
    cert,
    hideSTARTTLS: opts.hideStartTls ?? false,
    authOptional: !opts.auth,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    disableReverseLookup: true,
    size: 50 * 1024 * 1024,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.username && auth.password === opts.auth.password) return cb(null, { user: auth.username });
      cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const r = opts.onRcpt?.(address.address);
      cb(r ? refusal(r) : undefined);
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        state.attempts++;
        const r = opts.onData?.(state.attempts, session.envelope.rcptTo.map((x) => x.address));
        if (r) return cb(refusal(r));
        state.received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          rcptTo: session.envelope.rcptTo.map((x) => x.address),
          raw: Buffer.concat(chunks),
          user: session.user as string | undefined,
          secure: session.secure,
          mailParams: (session.envelope.mailFrom ? session.envelope.mailFrom.args : {}) as Record<string, unknown>,
          at: Date.now(),
          helo: session.hostNameAppearsAs,
        });
        cb();
      });
    },
    ...opts.extra,
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", () => resolve()));
  state.port = (server.server.address() as { port: number }).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
