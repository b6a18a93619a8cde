import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";

describe("SMARTHOST_DANE", () => {
  test("is off unless asked for", () => expect(loadConfig({}).SMARTHOST_DANE).toBe("off"));
  test("on, with a resolver named to trust", () => expect(loadConfig({ SMARTHOST_DANE: "on", SMARTHOST_DNS_SERVERS: "127.0.0.1:53" }).SMARTHOST_DANE).toBe("on"));
  test("on without SMARTHOST_DNS_SERVERS is refused: the system resolver's AD bit is not trusted", () =>
    expect(() => loadConfig({ SMARTHOST_DANE: "on" })).toThrow("SMARTHOST_DANE=on needs SMARTHOST_DNS_SERVERS"));
  test("anything but on or off is refused", () => expect(() => loadConfig({ SMARTHOST_DANE: "yes" })).toThrow("SMARTHOST_DANE must be on or off"));
});
