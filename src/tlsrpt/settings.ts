/** What the TLS reports say of their sender, from the configuration (SMARTHOST_TLSRPT_*). */
import type { Config } from "../config.ts";

export interface ReportSettings {
  /** organization-name. */
  organization: string;
  /** contact-info, and the From: of report mail. */
  contact: string;
  /** The reporting host: TLS-Report-Submitter, in the report-id. */
  submitter: string;
  /** sending-mta-ip: SMARTHOST_SENDING_IPS. */
  sendingIps: readonly string[];
}

export function reportSettings(config: Config, hostname: string): ReportSettings {
  return {
    organization: config.SMARTHOST_TLSRPT_ORG ?? hostname,
    contact: config.SMARTHOST_TLSRPT_CONTACT ?? `postmaster@${hostname}`,
    submitter: hostname,
    sendingIps: config.SMARTHOST_SENDING_IPS,
  };
}

/**
 * SMARTHOST_TLSRPT: `on`/`off` as set; unset, on only where the relay has a public name to
 * report under (a dotted name, not localhost nor a test or private suffix).
 */
export function tlsRptEnabled(config: Config): boolean {
  if (config.SMARTHOST_TLSRPT !== undefined) return config.SMARTHOST_TLSRPT === "on";
  const h = config.SMARTHOST_HOSTNAME.toLowerCase().replace(/\.$/, "");
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(h)) return false;
  // RFC 6761 / RFC 6762 / RFC 8375 names that are never public.
  return !/\.(test|example|invalid|localhost|local|internal|lan|home\.arpa)$/.test(h) && !/^\d+(\.\d+){3}$/.test(h);
}
