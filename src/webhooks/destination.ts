/**
 * Where a webhook may go: https only, and never to loopback, private, link-local or other
 * non-public addresses (no SSRF into the relay's own network), unless
 * SMARTHOST_ALLOW_PRIVATE_WEBHOOKS (tests). Checked when an endpoint is saved and again,
 * with a fresh DNS answer, before each attempt.
 */
import ipaddr from "ipaddr.js";
import { isPublicAddress } from "../delivery/address-guard.ts";

/** Resolves a host name to its addresses (A and AAAA); absent where the runtime cannot (Workers). */
export type ResolveHost = (host: string) => Promise<string[]>;

export class WebhookUrlError extends Error {}

const bareHost = (u: URL) => u.hostname.replace(/^\[|\]$/g, "");

/** The URL in its normalized form, or WebhookUrlError saying why it is refused. */
export function checkWebhookUrl(input: string, allowPrivate: boolean): string {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new WebhookUrlError("not a URL");
  }
  if (u.protocol !== "https:" && !(allowPrivate && u.protocol === "http:")) throw new WebhookUrlError("the URL must be https://");
  if (u.username || u.password) throw new WebhookUrlError("the URL must not hold credentials (the signature authenticates)");
  if (u.hash) throw new WebhookUrlError("the URL must not have a #fragment");
  const host = bareHost(u);
  if (!allowPrivate && (host === "localhost" || host.endsWith(".localhost") || (ipaddr.isValid(host) && !isPublicAddress(host)))) {
    throw new WebhookUrlError("the URL points to a loopback or private address");
  }
  return u.toString();
}

/** Null when the destination may be reached now, else why not. */
export async function destinationProblem(url: string, allowPrivate: boolean, resolve: ResolveHost | undefined): Promise<string | null> {
  if (allowPrivate) return null;
  const host = bareHost(new URL(url));
  const addresses = ipaddr.isValid(host) ? [host] : resolve ? await resolve(host).catch(() => null) : [];
  if (addresses === null) return `cannot resolve ${host}`;
  const blocked = addresses.filter((a) => !isPublicAddress(a));
  return blocked.length > 0 ? `${host} resolves to a non-public address (${blocked.join(", ")}); refused` : null;
}
