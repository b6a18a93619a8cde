import { expect, test } from "bun:test";
import { errorFields, errorFromFields, errorText } from "../../../src/core/log.ts";

const coded = (message: string, code: string, cause?: unknown) => Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });

test("errorText: the message, its code when the message does not say it, then each cause", () => {
  expect(errorText(coded("connect ECONNREFUSED 127.0.0.1:25", "ECONNREFUSED"))).toBe("connect ECONNREFUSED 127.0.0.1:25");
  expect(errorText(new Error("write failed", { cause: coded("socket closed", "EPIPE") }))).toBe("write failed: socket closed (EPIPE)");
  expect(errorText(new Error("outer", { cause: new Error("middle", { cause: "a string" }) }))).toBe("outer: middle: a string");
  expect(errorText("thrown text")).toBe("thrown text");
});

test("errorFromFields rebuilds what errorFields sent across a thread: name, message, code, stack and causes", () => {
  const original = new TypeError("bad key", { cause: coded("disk", "EIO") });
  const rebuilt = errorFromFields(JSON.parse(JSON.stringify(errorFields(original))));
  expect(rebuilt.name).toBe("TypeError");
  expect(rebuilt.message).toBe("bad key");
  expect(rebuilt.stack).toBe(original.stack);
  expect(errorFields(rebuilt.cause)).toMatchObject({ message: "disk", code: "EIO" });
});

test("a thrown value that is not an Error: a string as it is, anything else as JSON, its type when it has none", () => {
  expect(errorFields("thrown text")).toEqual({ name: "string", message: "thrown text" });
  expect(errorFields({ status: 503 })).toEqual({ name: "object", message: '{"status":503}' });
  expect(errorText(42)).toBe("42");
  expect(errorText(undefined)).toBe("undefined");
  expect(errorText(10n)).toBe("bigint");
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  expect(errorText(cycle)).toBe("object");
});
