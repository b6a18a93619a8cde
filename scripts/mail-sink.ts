/**
 * `npm run sink -- [PORT]`: a local SMTP server that accepts every message and prints one
 * line for it (envelope, size, subject), for trying the relay out without sending mail
 * anywhere: `smarthost route add DOMAIN 'smtp://127.0.0.1:PORT?tls=none'`. Loopback only;
 * a development tool (smtp-server is a dev dependency).
 */
import { SMTPServer } from "smtp-server";

const port = Number(process.argv[2] ?? 2526);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error("usage: npm run sink -- [PORT]   (default 2526)");
  process.exit(2);
}

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["AUTH", "STARTTLS"],
  banner: "smarthost test sink: nothing leaves this machine",
  logger: false,
  onData(stream, session, done) {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const head = text.split(/\r?\n\r?\n/, 1)[0] ?? "";
      const subject = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1]?.replace(/\r?\n[ \t]+/g, " ") ?? "";
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
      const to = session.envelope.rcptTo.map((r) => r.address).join(", ");
      console.log(`received from <${from}> to ${to}: ${chunks.reduce((n, c) => n + c.length, 0)} bytes, subject: ${subject}`);
      done();
    });
  },
});

server.listen(port, "127.0.0.1", () => {
  const at = server.server.address();
  console.log(`sink listening on 127.0.0.1:${typeof at === "object" && at ? at.port : port}; every message is accepted and printed, nothing is sent on`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.close(() => process.exit(0)));
