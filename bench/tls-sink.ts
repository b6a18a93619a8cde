/**
 * The ceiling of the TLS rows (smtp-sink speaks no TLS): the least SMTP server that
 * offers STARTTLS and AUTH PLAIN, says yes to everything and counts messages. It prints
 * "mesg=N" each second, as `smtp-sink -c` does, so the bench reads it the same way.
 *
 *   bun bench/tls-sink.ts PORT CERT.pem KEY.pem
 */
import type { Socket } from "bun";

interface Conn {
  current: Socket<Conn> | null;
  buf: string;
  inData: boolean;
}

let messages = 0;

function onData(s: Socket<Conn>, d: Uint8Array, tls: { cert: string; key: string }): void {
  const c = s.data;
  // After STARTTLS the plaintext socket only sees ciphertext: ignore it.
  if (c.current !== s) return;
  c.buf += Buffer.from(d).toString("latin1");
  for (;;) {
    if (c.inData) {
      const end = c.buf.indexOf("\r\n.\r\n");
      if (end < 0) return;
      c.buf = c.buf.slice(end + 5);
      c.inData = false;
      messages++;
      s.write("250 2.0.0 Ok: queued\r\n");
      continue;
    }
    const at = c.buf.indexOf("\r\n");
    if (at < 0) return;
    const line = c.buf.slice(0, at);
    c.buf = c.buf.slice(at + 2);
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === "EHLO") s.write("250-sink.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n");
    else if (verb === "AUTH") s.write("235 2.7.0 Ok\r\n");
    else if (verb === "DATA") {
      c.inData = true;
      c.buf = `\r\n${c.buf}`; // the terminator may follow at once (an empty message)
      s.write("354 go\r\n");
    } else if (verb === "QUIT") {
      s.write("221 bye\r\n");
      s.end();
      return;
    } else if (verb === "STAR") {
      s.write("220 go\r\n");
      c.buf = "";
      const [, secure] = s.upgradeTLS<Conn>({ tls, data: c, socket: handlers(tls) });
      c.current = secure;
      return;
    } else s.write("250 ok\r\n");
  }
}

function handlers(tls: { cert: string; key: string }) {
  return {
    open(s: Socket<Conn>) {
      // Bun.listen's `data` is one object for every connection: give each its own.
      if (s.data.current === null) {
        s.data = { current: s, buf: "", inData: false };
        s.write("220 sink.test ESMTP\r\n");
      }
    },
    data: (s: Socket<Conn>, d: Uint8Array) => onData(s, d, tls),
    error() {},
  };
}

if (import.meta.main) {
  const [port, certFile, keyFile] = process.argv.slice(2);
  const tls = { cert: await Bun.file(certFile!).text(), key: await Bun.file(keyFile!).text() };
  Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: Number(port),
    data: { current: null, buf: "", inData: false },
    socket: handlers(tls),
  });
  let shown = -1;
  setInterval(() => {
    if (messages !== shown) console.log(`mesg=${(shown = messages)}`);
  }, 50);
}
