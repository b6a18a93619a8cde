import { expect, test } from "bun:test";
import { sniName } from "../../../src/runtime/node-socket.ts";

test("SNI names hosts, never address literals (RFC 6066 §3)", () => {
  expect(sniName("smtp.example.com")).toBe("smtp.example.com");
  expect(sniName("127.0.0.1")).toBeUndefined();
  expect(sniName("::1")).toBeUndefined();
  expect(sniName("2001:db8::25")).toBeUndefined();
  expect(sniName("::ffff:192.0.2.1")).toBeUndefined();
  // Digits and dots but no address: a name (the old hand-written test called it an address).
  expect(sniName("1.2.3.4.5")).toBe("1.2.3.4.5");
  expect(sniName("999.1.1.1")).toBe("999.1.1.1");
});
