import { expect, test } from "bun:test";
import { hostnameFromUrl, httpBodyLimit, loadConfig, relayHostname } from "../../src/config.ts";
import { deliverySettings } from "../../src/delivery/settings.ts";

test("one mapping from the configuration to the delivery settings", () => {
  const config = loadConfig({
    SMARTHOST_RETRY_BASE_SECONDS: "7",
    SMARTHOST_QUEUE_LIFETIME_SECONDS: "3600",
    SMARTHOST_ALLOW_PRIVATE_MX: "true",
    SMARTHOST_MX_PORT: "2526",
    SMARTHOST_UPSTREAM: "smtp://relay.example:587",
    SMARTHOST_DELIVERY_CONCURRENCY: "9",
    SMARTHOST_DELIVERY_PER_DESTINATION: "3",
    SMARTHOST_DELIVERY_LEASE_SECONDS: "60",
    SMARTHOST_DELIVERY_POLL_MS: "250",
    SMARTHOST_RETENTION_SECONDS: "10",
  });
  expect(deliverySettings(config, "mx.example")).toEqual({
    hostname: "mx.example",
    retryBaseMs: 7000,
    lifetimeMs: 3_600_000,
    allowPrivateMx: true,
    mxPort: 2526,
    defaultUpstream: "smtp://relay.example:587",
    concurrency: 9,
    perDestination: 3,
    leaseMs: 60_000,
    pollMs: 250,
    retentionMs: 10_000,
  });
});

test("one host name default: SMARTHOST_HOSTNAME, else the machine's name, else localhost", () => {
  expect(relayHostname(loadConfig({ SMARTHOST_HOSTNAME: "relay.example" }), "box")).toBe("relay.example");
  expect(relayHostname(loadConfig({}), "box.lan")).toBe("box.lan");
  expect(relayHostname(loadConfig({}))).toBe("localhost");
});

test("on Workers (no machine name) the name the relay is reached at, when it is fully qualified", () => {
  expect(hostnameFromUrl(loadConfig({}), "https://smarthost.acme.workers.dev/v1/messages")).toBe("smarthost.acme.workers.dev");
  expect(hostnameFromUrl(loadConfig({}), "https://mail.example.com:8443/v1/messages")).toBe("mail.example.com");
  expect(hostnameFromUrl(loadConfig({ SMARTHOST_HOSTNAME: "relay.example" }), "https://smarthost.acme.workers.dev/")).toBe("relay.example");
  // Local development: an address or a single label is no name to give in EHLO.
  for (const url of ["http://127.0.0.1:8787/", "http://localhost:8787/", "http://[::1]:8787/", "http://devbox:8787/"]) expect(hostnameFromUrl(loadConfig({}), url)).toBe("localhost");
});

test("the HTTP body limit leaves room for base64 and the JSON around it", () => {
  const max = 26_214_400;
  expect(httpBodyLimit(max)).toBeGreaterThanOrEqual(Math.ceil((max * 4) / 3) + 16 * 1024);
  expect(httpBodyLimit(max)).toBe(Math.ceil(max * 1.4) + 64 * 1024);
});
