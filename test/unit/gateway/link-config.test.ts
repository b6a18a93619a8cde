import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../../src/config.ts";

const TOKEN = "x".repeat(32);
const withGateway = (url: string, token = TOKEN) => () => loadConfig({ SMARTHOST_GATEWAY_URL: url, SMARTHOST_GATEWAY_TOKEN: token });

describe("the gateway link's configuration", () => {
  test("accepts https anywhere and http to loopback only", () => {
    for (const url of ["https://gateway.example", "https://gw.example:8443/base", "http://127.0.0.1:8787", "http://127.1.2.3:1", "http://localhost:8787", "http://[::1]:8787"]) {
      expect(withGateway(url)().SMARTHOST_GATEWAY_URL).toBe(url);
    }
  });

  test("refuses plain http off the machine, credentials in the URL, and other schemes", () => {
    for (const url of ["http://gateway.example", "http://192.168.1.10:8787", "http://[2001:db8::1]:8787", "http://localhost.example", "https://u:p@gateway.example", "gateway.example", "ws://127.0.0.1:1"]) {
      expect(withGateway(url)).toThrow("SMARTHOST_GATEWAY_URL must be an https:// URL");
    }
  });

  test("a token needs 32 bytes (counted in UTF-8)", () => {
    expect(withGateway("https://gw.example", "x".repeat(31))).toThrow("SMARTHOST_GATEWAY_TOKEN must be at least 32 bytes");
    expect(withGateway("https://gw.example", "é".repeat(16))().SMARTHOST_GATEWAY_TOKEN).toBe("é".repeat(16));
    expect(() => loadConfig({ SMARTHOST_GATEWAY_TOKEN: "short" })).toThrow("SMARTHOST_GATEWAY_TOKEN must be at least 32 bytes");
  });
});
