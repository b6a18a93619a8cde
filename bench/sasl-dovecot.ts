/**
 * What Postfix needs to offer AUTH: a SASL server. Debian's Postfix speaks Dovecot's
 * authentication protocol (`smtpd_sasl_type = dovecot`), and Dovecot is not installed
 * here, so this is the server side of that protocol (version 1.2, the PLAIN mechanism)
 * over one user and password, compared in plaintext — as Haraka's auth/flat_file does.
 *
 *   bun bench/sasl-dovecot.ts PORT USER PASSWORD
 */
import type { Socket } from "bun";

interface Conn {
  buf: string;
}

let cuid = 0;

function handshake(s: Socket<Conn>): void {
  // The server's half of the handshake: mechanisms, then DONE (Dovecot's auth-client protocol).
  s.write(`VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t${process.pid}\nCUID\t${++cuid}\nCOOKIE\t${"0".repeat(32)}\nDONE\n`);
}

function answer(line: string, user: string, password: string): string | null {
  const f = line.split("\t");
  if (f[0] !== "AUTH") return null; // VERSION and CPID from the client need no answer
  const id = f[1]!;
  if (f[2] !== "PLAIN") return `FAIL\t${id}\treason=unsupported mechanism\n`;
  const resp = f.find((x) => x.startsWith("resp="))?.slice(5);
  // Postfix sends the initial response when the client gave one; else it asks for it.
  if (resp === undefined) return `CONT\t${id}\t\n`;
  const [, authcid, pass] = Buffer.from(resp, "base64").toString("utf8").split("\0");
  return authcid === user && pass === password ? `OK\t${id}\tuser=${user}\n` : `FAIL\t${id}\tuser=${authcid ?? ""}\n`;
}

if (import.meta.main) {
  const [port, user, password] = process.argv.slice(2) as [string, string, string];
  const pending = new Map<string, string>();
  Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: Number(port),
    data: { buf: "" },
    socket: {
      open(s) {
        s.data = { buf: "" };
        handshake(s);
      },
      data(s, d) {
        s.data.buf += Buffer.from(d).toString("latin1");
        let at: number;
        while ((at = s.data.buf.indexOf("\n")) >= 0) {
          const line = s.data.buf.slice(0, at);
          s.data.buf = s.data.buf.slice(at + 1);
          const f = line.split("\t");
          // The continuation of a CONT: "CONT\tid\tbase64".
          if (f[0] === "CONT" && pending.has(f[1]!)) {
            pending.delete(f[1]!);
            const out = answer(`AUTH\t${f[1]}\tPLAIN\tresp=${f[2] ?? ""}`, user, password);
            if (out) s.write(out);
            continue;
          }
          const out = answer(line, user, password);
          if (out?.startsWith("CONT")) pending.set(f[1]!, "PLAIN");
          if (out) s.write(out);
        }
      },
      error() {},
    },
  });
}
