/** swaks (Debian) against the running relay: STARTTLS, implicit TLS, AUTH, PIPELINING, no open relay. */
import { describe, expect, test } from "bun:test";
import { useRelay } from "../support/relay.ts";
import { requireTool, run } from "../support/require-tool.ts";

const swaks = requireTool("swaks");
const f = useRelay();

const base = () => ["--from", "alice@example.com", "--to", "bob@dest.test", "--header", "Subject: swaks", "--timeout", "10"];
const auth = (mech: string) => ["--auth", mech, "--auth-user", f.tenant.username, "--auth-password", f.tenant.password];

describe("swaks", () => {
  test("STARTTLS + AUTH PLAIN: queued", async () => {
    const r = await run([swaks, "--server", `127.0.0.1:${f.relay.smtpPort}`, "--tls", ...auth("PLAIN"), ...base()]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("<-  220 2.0.0 Ready to start TLS");
    expect(r.out).toMatch(/<~ {2}250 2\.0\.0 Ok: queued as \S+/);
  });

  test("implicit TLS + AUTH LOGIN with PIPELINING", async () => {
    const r = await run([swaks, "--server", `127.0.0.1:${f.relay.smtpsPort}`, "--tls-on-connect", "--pipeline", ...auth("LOGIN"), ...base()]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/250 2\.0\.0 Ok: queued as/);
  });

  test("no AUTH: relay refused with 554 5.7.1", async () => {
    const r = await run([swaks, "--server", `127.0.0.1:${f.relay.smtpPort}`, ...base()]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("554 5.7.1");
  });

  test("AUTH over plaintext refused", async () => {
    const r = await run([swaks, "--server", `127.0.0.1:${f.relay.smtpPort}`, ...auth("PLAIN"), ...base()]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("Host did not advertise authentication");
    expect(r.out).not.toContain("250-AUTH");
  });
});
