import { describe, expect, test } from "bun:test";
import { SaslExchange } from "../../../src/smtp/sasl.ts";
import { b64, Driver } from "../../support/session-driver.ts";

const plain = (initial: string) => SaslExchange.open("PLAIN")!.begin(initial);

describe("SASL PLAIN (RFC 4616)", () => {
  test("decodes authzid, authcid and password", () => {
    expect(plain(b64("\0alice\0secret"))).toEqual({ kind: "done", mechanism: "PLAIN", authzid: "", username: "alice", password: "secret" });
  });

  test("tells bad base64 apart from a decoded response that is not PLAIN", () => {
    expect(plain("!!!")).toEqual({ kind: "malformed" });
    for (const content of ["alice secret", "alice\0secret", "\0alice\0secret\0extra", "\0\0secret"]) {
      expect(plain(b64(content))).toEqual({ kind: "malformed-plain" });
    }
  });

  test("the session answers 501 5.5.2 with what is wrong", async () => {
    const d = new Driver();
    await d.send("EHLO c\r\n");
    await d.send(`AUTH PLAIN ${b64("alice secret")}\r\n`);
    await d.send(`AUTH PLAIN ${b64("\0a\0b\0c")}\r\n`);
    await d.send("AUTH PLAIN\r\n");
    await d.send(`${b64("nonuls")}\r\n`);
    await d.send("AUTH PLAIN ***\r\n");
    const replies = d.lines().filter((l) => l.startsWith("501"));
    expect(replies).toEqual([
      "501 5.5.2 Malformed PLAIN response",
      "501 5.5.2 Malformed PLAIN response",
      "501 5.5.2 Malformed PLAIN response",
      "501 5.5.2 Cannot decode base64 response",
    ]);
  });
});
