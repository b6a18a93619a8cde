import { describe, expect, test } from "bun:test";
import type { Envelope, SessionInfo } from "../../../src/smtp/handler.ts";
import type { Mailbox } from "../../../src/smtp/address.ts";
import { reply, type Reply } from "../../../src/core/reply.ts";
import { SmtpSession } from "../../../src/smtp/session.ts";
import { MemoryHandler } from "../../support/memory-handler.ts";
import { b64, baseConfig, Driver, memory } from "../../support/session-driver.ts";

const AUTH = `AUTH PLAIN ${b64("\0alice\0secret")}\r\n`;
const TX = "MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n";

async function authed(config = {}) {
  const d = new Driver(config);
  await d.send("EHLO client.test\r\n");
  await d.send(AUTH);
  return d;
}

describe("session: greeting and EHLO", () => {
  test("greets, then lists the ESMTP extensions", async () => {
    const d = new Driver();
    expect(d.output).toBe("220 relay.test ESMTP smarthost\r\n");
    await d.send("EHLO client.test\r\n");
    for (const ext of ["PIPELINING", "SIZE 10000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS", "AUTH PLAIN LOGIN", "CHUNKING"]) {
      expect(d.lines().map((l) => l.slice(4))).toContain(ext);
    }
  });

  test("does not offer AUTH before TLS unless insecure auth is allowed", async () => {
    const d = new Driver({ allowInsecureAuth: false });
    await d.send("EHLO client.test\r\n");
    expect(d.output).not.toContain("AUTH");
    await d.send(AUTH);
    expect(d.codes().at(-1)).toBe("530");
    expect(d.output).toContain("530 5.7.0");
  });

  test("refuses an early talker", async () => {
    // A session fed before start() (before its greeting): build one by hand.
    let out = "";
    let closed = false;
    const s = new SmtpSession(
      baseConfig,
      new MemoryHandler(),
      { send: (t) => (out += t), startTls: async () => ({ protocol: "", cipher: "" }), close: () => (closed = true) },
      { remoteAddress: "192.0.2.9", remotePort: 1, localPort: 25, tls: null },
    );
    await s.receive(new TextEncoder().encode("EHLO x\r\n"));
    expect(out).toBe("554 5.5.0 Protocol error: input before greeting\r\n");
    expect(closed).toBe(true);
    // Nothing more is said or done on that connection: no greeting, no reply to later input.
    s.start();
    await s.receive(new TextEncoder().encode("EHLO x\r\nMAIL FROM:<a@b.c>\r\n"));
    expect(out).toBe("554 5.5.0 Protocol error: input before greeting\r\n");
    // The same line after the greeting is an ordinary EHLO.
    const d = new Driver();
    await d.send("EHLO x\r\n");
    expect(d.codes()).toEqual(["250"]);
    expect(d.closed).toBe(false);
  });

  test("cuts off a client that pipelines before the EHLO reply", async () => {
    const d = new Driver();
    await d.send("EHLO client.test\r\nMAIL FROM:<a@b.c>\r\n");
    expect(d.output).toContain("554 5.5.0");
    expect(d.closed).toBe(true);
  });

  test("requires a domain after EHLO", async () => {
    const d = new Driver();
    await d.send("EHLO\r\n");
    expect(d.output).toContain("501 5.5.4");
  });
});

describe("session: mail transaction", () => {
  test("accepts a message, unstuffs it and prepends a Received header", async () => {
    const d = await authed();
    await d.send(TX);
    await d.send("Subject: hi\r\n\r\n..dot\r\n.\r\n");
    const stored = memory(d).stored;
    expect(stored).toHaveLength(1);
    const text = new TextDecoder().decode(stored[0]!.message);
    expect(text).toMatch(/^Received: from client\.test \(\[192\.0\.2\.1\]\)\r\n\tby relay\.test \(smarthost\) with ESMTPA id /);
    expect(text).toContain("\tfor <bob@example.net>;");
    expect(text).toEndWith("Subject: hi\r\n\r\n.dot\r\n");
    expect(d.output).toContain(`250 2.0.0 Ok: queued as ${stored[0]!.id}`);
    expect(stored[0]!.envelope.from?.address).toBe("alice@example.com");
  });

  test("pipelined input split at every byte boundary gives the same replies", async () => {
    const script = `${TX}Subject: x\r\n\r\nbody\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.e>\r\nBDAT 8 LAST\r\nab\r\ncd\r\nQUIT\r\n`;
    const whole = await authed();
    await whole.send(script);
    const expected = whole.codes();
    expect(expected).toEqual(["250", "235", "250", "250", "354", "250", "250", "250", "250", "250", "221"]);
    for (let cut = 0; cut <= script.length; cut++) {
      const d = await authed();
      await d.send(script.slice(0, cut));
      await d.send(script.slice(cut));
      expect(d.codes()).toEqual(expected);
      expect(memory(d).stored).toHaveLength(2);
    }
  });

  test("enforces command order", async () => {
    const d = new Driver();
    await d.send("MAIL FROM:<a@b.c>\r\n");
    expect(d.output).toContain("503 5.5.1");
    await d.send("EHLO c\r\n");
    await d.send(AUTH);
    await d.send("RCPT TO:<a@b.c>\r\n");
    await d.send("DATA\r\n");
    await d.send("MAIL FROM:<a@b.c>\r\n");
    await d.send("MAIL FROM:<a@b.c>\r\n");
    await d.send("DATA\r\n");
    expect(d.codes().slice(-6)).toEqual(["235", "503", "503", "250", "503", "554"]);
  });

  test("refuses unknown parameters with 555 and a declared size over the limit with 552", async () => {
    const d = await authed();
    await d.send("MAIL FROM:<a@b.c> FOO=1\r\n");
    await d.send("MAIL FROM:<a@b.c> SIZE=20000\r\n");
    await d.send("MAIL FROM:<a@b.c> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=abc+2B\r\n");
    await d.send("RCPT TO:<x@y.z> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y.z\r\n");
    await d.send("RCPT TO:<x@y.z> BOGUS\r\n");
    expect(d.output).toContain("555 5.5.4 Unsupported parameter FOO");
    expect(d.output).toContain("552 5.3.4");
    expect(d.codes().slice(-3)).toEqual(["250", "250", "555"]);
  });

  test("limits recipients per message with 452 4.5.3", async () => {
    const d = await authed();
    await d.send("MAIL FROM:<a@b.c>\r\n");
    for (let i = 0; i < 4; i++) await d.send(`RCPT TO:<r${i}@x.y>\r\n`);
    expect(d.codes().slice(-4)).toEqual(["250", "250", "250", "452"]);
    expect(d.output).toContain("452 4.5.3");
  });

  test("refuses an oversized message with 552 5.3.4 and stays in step", async () => {
    const d = await authed();
    await d.send(TX);
    await d.send(`${"x".repeat(900)}\r\n`.repeat(12) + ".\r\nNOOP\r\n");
    expect(d.output).toContain("552 5.3.4");
    expect(d.codes().at(-1)).toBe("250");
    expect(memory(d).stored).toHaveLength(0);
  });

  test("refuses a bare LF in data and never runs the smuggled commands", async () => {
    const d = await authed();
    await d.send(TX);
    await d.send("Subject: a\r\n\r\nx\n.\nMAIL FROM:<evil@x.y>\r\nRCPT TO:<v@x.y>\r\nDATA\r\nsmuggled\r\n.\r\n");
    expect(d.output).toContain("550 5.6.11");
    expect(memory(d).stored).toHaveLength(0);
    expect(d.codes().filter((c) => c === "354")).toHaveLength(1);
  });

  test("refuses a bare LF or CR in a command and closes", async () => {
    for (const input of ["NOOP\n", "NO\rOP\r\n"]) {
      const d = new Driver();
      await d.send(input);
      expect(d.output).toContain("554 5.5.2");
      expect(d.closed).toBe(true);
    }
  });

  test("refuses a command line over 512 octets and one over 12288 even mid-stream", async () => {
    const d = new Driver();
    await d.send(`NOOP ${"a".repeat(600)}\r\n`);
    expect(d.output).toContain("500 5.5.6");
    await d.send("x".repeat(20000));
    await d.send("x\r\nNOOP\r\n");
    expect(d.codes().slice(-2)).toEqual(["500", "250"]);
  });

  test("disconnects after too many errors", async () => {
    const d = new Driver({ maxErrors: 3 });
    await d.send("BOGUS\r\nBOGUS\r\nBOGUS\r\nNOOP\r\n");
    expect(d.output).toContain("421 4.7.0");
    expect(d.closed).toBe(true);
    expect(d.codes()).toEqual(["500", "500", "500", "421"]);
  });

  test("closes on HTTP requests", async () => {
    const d = new Driver();
    await d.send("GET / HTTP/1.1\r\n");
    expect(d.closed).toBe(true);
  });

  test("answers VRFY 252, HELP 214, NOOP, RSET and QUIT 221", async () => {
    const d = new Driver();
    await d.send("VRFY bob\r\nHELP\r\nNOOP\r\nRSET\r\nQUIT\r\n");
    expect(d.codes()).toEqual(["252", "214", "250", "250", "221"]);
    expect(d.closed).toBe(true);
  });

  test("requires SMTPUTF8 for a non-ASCII address", async () => {
    const d = await authed();
    await d.send("MAIL FROM:<δοκιμή@example.com>\r\n");
    await d.send("MAIL FROM:<δοκιμή@example.com> SMTPUTF8\r\n");
    await d.send("RCPT TO:<χρήστης@παράδειγμα.δοκιμή>\r\n");
    expect(d.codes().slice(-3)).toEqual(["553", "250", "250"]);
  });
});

describe("session: BDAT (RFC 3030)", () => {
  test("joins chunks into one message", async () => {
    const d = await authed();
    await d.send("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\n");
    await d.send("BDAT 5\r\nab\r\nc");
    await d.send("BDAT 3 LAST\r\nd\r\n");
    expect(d.codes().slice(-2)).toEqual(["250", "250"]);
    const text = new TextDecoder().decode(memory(d).stored[0]!.message);
    expect(text).toEndWith("\r\nab\r\ncd\r\n");
  });

  test("reads and refuses a chunk outside a transaction", async () => {
    const d = await authed();
    await d.send("BDAT 6 LAST\r\nNOOP\r\nNOOP\r\n");
    expect(d.codes().slice(-2)).toEqual(["503", "250"]);
  });

  test("refuses a bare LF in a chunk", async () => {
    const d = await authed();
    await d.send("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nBDAT 4 LAST\r\na\nb\r\n");
    expect(d.output).toContain("550 5.6.11");
    expect(memory(d).stored).toHaveLength(0);
  });

  test("refuses an oversized chunk with 552 after reading it", async () => {
    const d = await authed();
    await d.send(`MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nBDAT 20000 LAST\r\n${"z".repeat(20000)}NOOP\r\n`);
    expect(d.codes().slice(-2)).toEqual(["552", "250"]);
  });
});

describe("session: STARTTLS", () => {
  test("discards commands pipelined behind STARTTLS", async () => {
    const d = new Driver();
    await d.send("EHLO c\r\n");
    await d.send("STARTTLS\r\nRSET\r\n");
    expect(d.tlsStarted).toBe(1);
    expect(d.codes()).toEqual(["250", "220"]);
  });

  test("forgets EHLO after TLS and does not offer STARTTLS again", async () => {
    const d = new Driver();
    await d.send("EHLO c\r\n");
    await d.send("STARTTLS\r\n");
    await d.send("MAIL FROM:<a@b.c>\r\n");
    await d.send("EHLO c\r\n");
    expect(d.lines().filter((l) => l.includes("STARTTLS"))).toHaveLength(1);
    await d.send("STARTTLS\r\n");
    await d.send("STARTTLS x\r\n");
    expect(d.codes().slice(-4)).toEqual(["503", "250", "503", "501"]);
  });
});

describe("session: AUTH (RFC 4954)", () => {
  test("PLAIN with and without an initial response, LOGIN in steps", async () => {
    const a = new Driver();
    await a.send("EHLO c\r\n");
    await a.send("AUTH PLAIN\r\n");
    await a.send(`${b64("\0alice\0secret")}\r\n`);
    expect(a.codes().slice(-2)).toEqual(["334", "235"]);
    const b = new Driver();
    await b.send("EHLO c\r\nAUTH LOGIN\r\n".slice(0, 8));
    await b.send("AUTH LOGIN\r\n");
    await b.send(`${b64("alice")}\r\n`);
    await b.send(`${b64("secret")}\r\n`);
    expect(b.codes().slice(-3)).toEqual(["334", "334", "235"]);
    expect(b.output).toContain("334 VXNlcm5hbWU6");
  });

  test("cancel, bad base64, unknown mechanism, wrong password", async () => {
    const d = new Driver();
    await d.send("EHLO c\r\n");
    await d.send("AUTH PLAIN\r\n");
    await d.send("*\r\n");
    await d.send("AUTH PLAIN !!!\r\n");
    await d.send("AUTH CRAM-MD5\r\n");
    await d.send(`AUTH PLAIN ${b64("\0alice\0wrong")}\r\n`);
    expect(d.output).toContain("501 5.0.0");
    expect(d.output).toContain("501 5.5.2");
    expect(d.output).toContain("504 5.5.4");
    expect(d.output).toContain("535 5.7.8");
  });

  test("refuses AUTH twice and inside a transaction", async () => {
    const d = await authed();
    await d.send(AUTH);
    expect(d.codes().at(-1)).toBe("503");
    const e = new Driver();
    await e.send("EHLO c\r\n");
    await e.send("MAIL FROM:<a@b.c>\r\n");
    await e.send(AUTH);
    expect(e.codes().at(-1)).toBe("503");
  });

  test("accepts AUTH lines up to 12288 octets and refuses longer ones", async () => {
    const d = new Driver();
    await d.send("EHLO c\r\n");
    const long = b64(`\0alice\0${"p".repeat(9000)}`);
    await d.send(`AUTH PLAIN ${long}\r\n`);
    expect(d.codes().at(-1)).toBe("535");
    await d.send(`AUTH PLAIN ${"A".repeat(12400)}\r\n`);
    expect(d.output).toContain("500 5.5.6");
  });

  test("asks the handler about each recipient as the peer it is, passes a refusal on verbatim and keeps that recipient out", async () => {
    const asked: { rcpt: string; info: SessionInfo }[] = [];
    class Recording extends MemoryHandler {
      override async checkRecipient(info: SessionInfo, _e: Envelope, to: Mailbox): Promise<Reply | null> {
        asked.push({ rcpt: to.address, info });
        return info.authenticated ? null : reply(550, "5.7.1", "Not for strangers (test policy)");
      }
    }
    const d = new Driver({}, new Recording());
    await d.send("EHLO c\r\n");
    await d.send("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@elsewhere.test>\r\n");
    expect(d.lines().at(-1)).toBe("550 5.7.1 Not for strangers (test policy)");
    expect(asked[0]!.rcpt).toBe("x@elsewhere.test");
    expect(asked[0]!.info).toMatchObject({ principal: null, authenticated: false, helo: "c", remoteAddress: "192.0.2.1" });
    // The refused recipient was not added: DATA has nobody to deliver to.
    await d.send("DATA\r\n");
    expect(d.lines().at(-1)).toBe("554 5.5.1 No valid recipients");
    // After AUTH the same session asks again, now as the authenticated user, and the message goes.
    await d.send(`RSET\r\n${AUTH}`);
    await d.send(TX);
    await d.send("Subject: s\r\n\r\nb\r\n.\r\n");
    expect(asked[1]!.info).toMatchObject({ principal: { username: "alice" }, authenticated: true });
    expect(d.codes().slice(-5)).toEqual(["235", "250", "250", "354", "250"]);
    const stored = memory(d).stored;
    expect(stored).toHaveLength(1);
    expect(stored[0]!.envelope.recipients.map((r) => r.mailbox.address)).toEqual(["bob@example.net"]);
  });
});
