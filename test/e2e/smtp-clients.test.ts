/** The running relay against real SMTP clients: Python's smtplib, nodemailer, openssl. */
import { describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { connect as tlsConnect } from "node:tls";
import { openDb, useRelay } from "../support/relay.ts";
import { PY_PRELUDE, python } from "../support/python.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { withTimeout } from "../support/wait.ts";

const f = useRelay();

async function messageCount(): Promise<number> {
  const db = openDb(f.relay.dbUrl);
  try {
    return Number((await db.execute("SELECT count(*) AS n FROM messages")).rows[0]!.n);
  } finally {
    db.close();
  }
}

async function status(id: string) {
  const res = await fetch(`${f.relay.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${f.tenant.apiKey}` } });
  return { code: res.status, body: (await res.json()) as { recipients: { address: string; state: string }[]; mail_from: string } };
}

describe("Python smtplib", () => {
  test("STARTTLS, AUTH PLAIN and a message committed before 250", async () => {
    const r = await python<{ tls: number; auth: number; data: [number, string] }>(
      `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo()
tls = s.starttls(context=ctx)[0]
s.ehlo()
auth = s.login(sys.argv[2], sys.argv[3])[0]
s.mail('alice@example.com')
s.rcpt('bob@dest.test')
code, msg = s.data('From: alice@example.com\\r\\nTo: bob@dest.test\\r\\nSubject: t\\r\\n\\r\\nhello\\r\\n')
s.quit()
out({'tls': tls, 'auth': auth, 'data': [code, msg.decode()]})`,
      [f.relay.smtpPort, f.tenant.username, f.tenant.password],
    );
    expect(r.tls).toBe(220);
    expect(r.auth).toBe(235);
    expect(r.data[0]).toBe(250);
    const id = /queued as (\S+)/.exec(r.data[1])![1]!;
    const s = await status(id);
    expect(s.code).toBe(200);
    expect(s.body.recipients).toEqual([expect.objectContaining({ address: "bob@dest.test", state: "queued" })]);
  });

  test("SMTPUTF8 addresses over implicit TLS", async () => {
    const r = await python<[number, string]>(
      `${PY_PRELUDE}
s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), context=ctx)
s.login(sys.argv[2], sys.argv[3])
msg = 'From: alice@example.com\\r\\nTo: χρήστης@παράδειγμα.δοκιμή\\r\\nSubject: utf8\\r\\n\\r\\nγεια\\r\\n'.encode('utf-8')
s.ehlo()
s.mail('alice@example.com', ['SMTPUTF8', 'BODY=8BITMIME'])
s.rcpt('χρήστης@παράδειγμα.δοκιμή')
code, text = s.data(msg)
s.quit()
out([code, text.decode()])`,
      [f.relay.smtpsPort, f.tenant.username, f.tenant.password],
    );
    expect(r[0]).toBe(250);
    const id = /queued as (\S+)/.exec(r[1])![1]!;
    expect((await status(id)).body.recipients[0]!.address).toBe("χρήστης@παράδειγμα.δοκιμή");
  });

  test("pipelined RSET and NOOP are answered in order", async () => {
    const r = await python<number[]>(
      `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo()
s.starttls(context=ctx)
s.ehlo()
s.login(sys.argv[2], sys.argv[3])
s.send(b'MAIL FROM:<alice@example.com>\\r\\nRSET\\r\\nNOOP\\r\\nRCPT TO:<x@dest.test>\\r\\n')
codes = [s.getreply()[0] for _ in range(4)]
s.quit()
out(codes)`,
      [f.relay.smtpPort, f.tenant.username, f.tenant.password],
    );
    expect(r).toEqual([250, 250, 250, 503]);
  });

  test("AUTH before STARTTLS is refused and not offered", async () => {
    const r = await python<{ offered: boolean; code: number; text: string }>(
      `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo()
offered = s.has_extn('auth')
code, text = s.docmd('AUTH', 'PLAIN ' + base64.b64encode(b'\\0alice\\0x').decode())
out({'offered': offered, 'code': code, 'text': text.decode()})`,
      [f.relay.smtpPort],
    );
    expect(r.offered).toBe(false);
    expect(r.code).toBe(530);
    expect(r.text).toStartWith("5.7.0");
  });
});

describe("nodemailer", () => {
  const send = (port: number, secure: boolean) =>
    nodemailer
      .createTransport({
        host: "127.0.0.1",
        port,
        secure,
        requireTLS: !secure,
        auth: { user: f.tenant.username, pass: f.tenant.password },
        tls: { rejectUnauthorized: false },
      })
      .sendMail({
        from: "Alice <alice@example.com>",
        to: "carol@dest.test",
        bcc: "dave@dest.test",
        subject: "via nodemailer",
        text: "hello",
        attachments: [{ filename: "a.txt", content: "attached" }],
      });

  test("sends over STARTTLS with AUTH; Bcc stays in the envelope", async () => {
    const info = await send(f.relay.smtpPort, false);
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(info.accepted).toEqual(["carol@dest.test", "dave@dest.test"]);
    const id = /queued as (\S+)/.exec(info.response)![1]!;
    expect((await status(id)).body.recipients.map((r) => r.address)).toEqual(["carol@dest.test", "dave@dest.test"]);
  });

  test("sends over implicit TLS", async () => {
    expect((await send(f.relay.smtpsPort, true)).response).toStartWith("250 2.0.0");
  });
});

describe("STARTTLS", () => {
  test("openssl s_client negotiates TLS and gets an EHLO reply inside it", async () => {
    const proc = Bun.spawn(["openssl", "s_client", "-starttls", "smtp", "-connect", `127.0.0.1:${f.relay.smtpPort}`, "-quiet", "-ign_eof"], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    proc.stdin.write("EHLO openssl.test\r\n");
    await proc.stdin.flush();
    // QUIT only once the EHLO reply is complete (its last line, "250 "), then read to the end.
    let out = "";
    const decoder = new TextDecoder();
    const reader = proc.stdout.getReader();
    const ehloAnswered = () => /greets openssl\.test[\s\S]*\r?\n250 /.test(out);
    await withTimeout(
      (async () => {
        while (!ehloAnswered()) {
          const { done, value } = await reader.read();
          if (done) break;
          out += decoder.decode(value, { stream: true });
        }
      })(),
      10_000,
      "the EHLO reply inside TLS",
    );
    proc.stdin.write("QUIT\r\n");
    await proc.stdin.end();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out += decoder.decode(value, { stream: true });
    }
    await proc.exited;
    expect(out).toContain("250-relay.test greets openssl.test");
    expect(out).toContain("AUTH PLAIN LOGIN");
    expect(out).not.toContain("250-STARTTLS");
    expect(out).toContain("221 2.0.0");
  });

  test("a command injected behind STARTTLS is not answered inside TLS", async () => {
    const raw = await RawSmtp.open(f.relay.smtpPort);
    await raw.replies(1);
    raw.write("EHLO inject.test\r\n");
    await raw.replies(1);
    raw.write("STARTTLS\r\nRSET\r\n");
    expect(await raw.replies(1)).toEqual(["220 2.0.0 Ready to start TLS"]);
    raw.socket.removeAllListeners("data");
    const secure = tlsConnect({ socket: raw.socket, rejectUnauthorized: false });
    let received = "";
    secure.on("data", (d) => (received += d.toString()));
    await new Promise((r) => secure.once("secureConnect", r));
    // NOOP then QUIT: once the server has hung up, everything it said inside TLS is here.
    // Had the injected RSET been answered, its reply would come before the NOOP's.
    const closed = new Promise((r) => secure.once("close", r));
    secure.write("NOOP\r\nQUIT\r\n");
    await withTimeout(closed, 10_000, "the server to close after QUIT");
    expect(received.split("\r\n")).toEqual(["250 2.0.0 Ok", expect.stringMatching(/^221 2\.0\.0/), ""]);
  });
});

describe("no open relay", () => {
  test("an unauthenticated client cannot relay and nothing is stored", async () => {
    const before = await messageCount();
    const raw = await RawSmtp.open(f.relay.smtpPort);
    await raw.replies(1);
    raw.write("EHLO open.test\r\n");
    await raw.replies(1);
    raw.write("MAIL FROM:<alice@example.com>\r\n");
    expect((await raw.replies(1))[0]).toStartWith("250");
    raw.write("RCPT TO:<victim@elsewhere.test>\r\n");
    expect((await raw.replies(1))[0]).toStartWith("554 5.7.1");
    raw.write("DATA\r\n");
    expect((await raw.replies(1))[0]).toStartWith("554 5.5.1");
    raw.close();
    expect(await messageCount()).toBe(before);
  });
});
