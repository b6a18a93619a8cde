import { describe, expect, test } from "bun:test";
import { Deadlines } from "../../../src/smtp/deadlines.ts";

const limits = { idleMs: 2000, commandMs: 3000, minDataRate: 500 };

describe("connection deadlines", () => {
  test("input resets the idle clock", () => {
    const d = new Deadlines(limits, 0);
    d.observe("command", 0, 0);
    expect(d.next("command")).toEqual({ at: 2000, expiry: "idle" });
    d.input(6, "command", 1500);
    d.observe("command", 1, 1500);
    expect(d.next("command")).toEqual({ at: 3500, expiry: "idle" });
  });

  test("a command line must end within the deadline of its first octet, however it trickles", () => {
    const d = new Deadlines(limits, 0);
    for (let t = 100; t <= 2900; t += 400) {
      d.input(1, t === 100 ? "command" : "partial-command", t);
      d.observe("partial-command", 0, t);
    }
    expect(d.next("partial-command")).toEqual({ at: 3100, expiry: "command" });
  });

  test("a partial line behind a finished one starts its own clock", () => {
    const d = new Deadlines(limits, 0);
    d.input(2, "command", 0);
    d.observe("partial-command", 0, 0);
    d.input(8, "partial-command", 1000);
    d.observe("partial-command", 1, 1000);
    expect(d.next("partial-command")).toEqual({ at: 3000, expiry: "idle" });
    d.input(1, "partial-command", 2500);
    d.observe("partial-command", 1, 2500);
    expect(d.next("partial-command")).toEqual({ at: 4000, expiry: "command" });
  });

  test("message data buys time at the minimum rate, never more than the deadline ahead", () => {
    const d = new Deadlines(limits, 0);
    d.observe("body", 5, 0);
    expect(d.next("body")).toEqual({ at: 2000, expiry: "idle" });
    // 100 octets at 500 B/s buy 200 ms: arriving every second, the allowance shrinks by 800 ms.
    for (let t = 1000; t <= 3000; t += 1000) {
      d.input(100, "body", t);
      d.observe("body", 5, t);
    }
    expect(d.next("body")).toEqual({ at: 3600, expiry: "data-rate" });
    // A fast burst is capped at now + commandMs.
    d.input(1_000_000, "body", 3100);
    expect(d.next("body")).toEqual({ at: 5100, expiry: "idle" });
  });

  test("nothing is timed while the session is busy, and busy does not reset the clocks", () => {
    const d = new Deadlines(limits, 0);
    d.input(1, "command", 0);
    d.observe("partial-command", 0, 0);
    d.observe("busy", 0, 500);
    expect(d.next("busy")).toBeNull();
    d.input(1, "partial-command", 1900);
    d.observe("partial-command", 0, 1900);
    expect(d.next("partial-command")).toEqual({ at: 3000, expiry: "command" });
  });
});
