/** The relay's default name (the machine's fully qualified one when the system knows it) and the one warning at start. */
import { describe, expect, test } from "bun:test";
import { configuredHostname, hostnameProblem, machineHostname, startHostname, type NameLookup } from "../../../src/runtime/host-name.ts";

/** A resolver from tables: name → addresses, address → name; a missing entry fails as ENOTFOUND does. */
function lookupFrom(machine: string, names: Record<string, string[]>, reverse: Record<string, string> = {}, calls: string[] = []): NameLookup {
  const notFound = () => Promise.reject(Object.assign(new Error("not found"), { code: "ENOTFOUND" }));
  return {
    machineName: () => machine,
    addresses: (name) => (calls.push(`addresses ${name}`), names[name] ? Promise.resolve(names[name]) : notFound()),
    nameOf: (address) => (calls.push(`nameOf ${address}`), reverse[address] ? Promise.resolve(reverse[address]) : notFound()),
  };
}

const never: NameLookup = { machineName: () => "vm", addresses: () => new Promise(() => {}), nameOf: () => new Promise(() => {}) };

describe("the machine's name", () => {
  test("a kernel name with a dot is taken as it is, with no lookup", async () => {
    const calls: string[] = [];
    expect(await machineHostname(lookupFrom("mx1.example.net", {}, {}, calls))).toBe("mx1.example.net");
    expect(calls).toEqual([]);
  });

  test("a short name becomes the canonical name of its address (as /etc/hosts' 127.0.1.1 vm.example.net vm)", async () => {
    expect(await machineHostname(lookupFrom("vm", { vm: ["127.0.1.1"] }, { "127.0.1.1": "vm.example.net" }))).toBe("vm.example.net");
  });

  test("a name back that is not this machine's name with a domain is not taken (getnameinfo of 127.0.0.1 says localhost)", async () => {
    expect(await machineHostname(lookupFrom("vm", { vm: ["127.0.0.1"] }, { "127.0.0.1": "localhost" }))).toBe("vm");
    expect(await machineHostname(lookupFrom("vm", { vm: ["192.0.2.7"] }, { "192.0.2.7": "other.example.net" }))).toBe("vm");
    expect(await machineHostname(lookupFrom("vm", { vm: ["192.0.2.7", "192.0.2.8"] }, { "192.0.2.8": "VM.Example.NET." }))).toBe("VM.Example.NET");
  });

  test("a short name that does not resolve stays the short name", async () => {
    expect(await machineHostname(lookupFrom("vm", {}))).toBe("vm");
  });

  test("a resolver that never answers does not hold start-up past the time limit", async () => {
    expect(await machineHostname(never, 20)).toBe("vm");
  });

  test("SMARTHOST_HOSTNAME wins and no lookup is made for the machine", async () => {
    const calls: string[] = [];
    expect(await configuredHostname({ SMARTHOST_HOSTNAME: "relay.example.org" }, lookupFrom("vm", {}, {}, calls))).toBe("relay.example.org");
    expect(calls).toEqual([]);
    expect(await configuredHostname({ SMARTHOST_HOSTNAME: "" }, lookupFrom("", {}))).toBe("localhost");
  });
});

describe("the warning at start", () => {
  const resolving = lookupFrom("vm", { "vm.example.net": ["192.0.2.7"], "relay.example.org": ["192.0.2.8"] }, { "192.0.2.7": "vm.example.net" });

  test("a fully qualified name that resolves: no warning", async () => {
    expect(await hostnameProblem("relay.example.org", resolving)).toBeNull();
  });

  test("a short name, localhost, a name that does not resolve, a special-use name: each says why", async () => {
    expect(await hostnameProblem("vm", resolving)).toBe("not fully qualified");
    expect(await hostnameProblem("localhost", resolving)).toBe("not fully qualified");
    expect(await hostnameProblem("gone.example.org", resolving)).toBe("does not resolve");
    expect(await hostnameProblem("relay.test", resolving)).toBe("a special-use name that does not resolve outside this network");
    expect(await hostnameProblem("relay.example.org", never, 20)).toBe("does not resolve");
  });

  test("startHostname logs one warning line naming the name and the problem, and none when the name is right", async () => {
    const lines: [string, Record<string, unknown>][] = [];
    const log = (event: string, fields: Record<string, unknown>) => lines.push([event, fields]);
    expect(await startHostname({ SMARTHOST_HOSTNAME: "" }, log, lookupFrom("vm", {}))).toBe("vm");
    expect(lines.map(([e, f]) => [e, f.hostname, f.problem])).toEqual([["hostname_warning", "vm", "not fully qualified"]]);
    lines.length = 0;
    expect(await startHostname({ SMARTHOST_HOSTNAME: "" }, log, lookupFrom("vm", { vm: ["192.0.2.7"], "vm.example.net": ["192.0.2.7"] }, { "192.0.2.7": "vm.example.net" }))).toBe("vm.example.net");
    expect(lines).toEqual([]);
  });
});
