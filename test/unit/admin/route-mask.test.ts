import { expect, test } from "bun:test";
import { maskRouteUrl } from "../../../src/admin/route-list.ts";
import { withPassword } from "../../../src/cli/routes.ts";
import { parseRoute } from "../../../src/delivery/routing.ts";

test("masks user and password whatever the password holds", () => {
  const cases: [string, string][] = [
    ["smtp://user:secret@relay.test:587", "smtp://***@relay.test:587"],
    ["smtp://user:p@ssw0rd@relay.test:587", "smtp://***@relay.test:587"],
    ["smtps://u:a%40b%3Ac%2Fd@relay.test:465", "smtps://***@relay.test:465"],
    ["smtp://onlyuser@relay.test:25?tls=required", "smtp://***@relay.test:25?tls=required"],
    ["smtp://relay.test:25", "smtp://relay.test:25"],
    ["smtp://[2001:db8::1]:25", "smtp://[2001:db8::1]:25"],
    ["mx", "mx"],
  ];
  for (const [url, masked] of cases) expect(maskRouteUrl(url)).toBe(masked);
  // An unencoded "/" in the password cuts the URL short: host and path would be pieces of it.
  expect(maskRouteUrl("smtp://user:p@ss/word@relay.test:587")).toBe("(unreadable route)");
  expect(maskRouteUrl("not a url")).toBe("(unreadable route)");
});

test("a password given apart from the URL is put in so delivery reads it back exactly", () => {
  for (const pw of ["simple", "p@ss:w/rd", "100%sure", "sp ace#?&"]) {
    const url = withPassword("smtp://user@relay.test:587", pw);
    expect(maskRouteUrl(url)).toBe("smtp://***@relay.test:587");
    const r = parseRoute(url);
    expect(r?.kind === "relay" ? r.target.auth : undefined).toEqual({ username: "user", password: pw });
  }
  expect(() => withPassword("smtp://relay.test:587", "x")).toThrow("a password needs a user name in the URL");
  expect(() => withPassword("smtp://u:p@relay.test:587", "x")).toThrow("the URL already holds a password");
  expect(withPassword("smtp://u:p@relay.test:587", undefined)).toBe("smtp://u:p@relay.test:587");
});
