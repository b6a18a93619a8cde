/**
 * The `_smtp._tls.DOMAIN` TXT record (RFC 8460 §3): `v=TLSRPTv1; rua=URI[,URI…]`, the
 * URIs `mailto:` or `https:`. Unknown schemes are skipped (§3: a sender uses what it
 * supports); more than one TLSRPTv1 record means none applies (§3).
 */
export interface Rua {
  kind: "mailto" | "https";
  uri: string;
  /** For mailto: the address (percent-decoded, RFC 6068). */
  address?: string;
}

export type TlsRptRecord = { record: string; rua: Rua[] } | { none: string };

function parseRua(uri: string): Rua | null {
  if (/^mailto:/i.test(uri)) {
    // RFC 6068: hfields (?subject=…) are not for us; the address may be percent-encoded.
    let address: string;
    try {
      address = decodeURIComponent(uri.slice(7).split("?")[0]!);
    } catch {
      return null;
    }
    const at = address.lastIndexOf("@");
    if (at < 1 || at === address.length - 1 || /[\s<>,]/.test(address)) return null;
    return { kind: "mailto", uri, address };
  }
  if (/^https:\/\//i.test(uri)) {
    try {
      return new URL(uri).protocol === "https:" ? { kind: "https", uri } : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** The record among the TXT strings at the name (each already joined), or why none applies. */
export function parseTlsRptRecord(txt: readonly string[]): TlsRptRecord {
  const records = txt.filter((r) => /^v=TLSRPTv1\s*(;|$)/.test(r.trim()));
  if (records.length === 0) return { none: "no TLS-RPT record" };
  if (records.length > 1) return { none: "more than one TLS-RPT record" };
  const record = records[0]!.trim();
  const fields = record.split(";").map((f) => f.trim()).filter((f) => f !== "");
  const rua = fields.find((f) => /^rua\s*=/i.test(f));
  if (!rua) return { none: "the record has no rua=" };
  const uris = rua.slice(rua.indexOf("=") + 1).split(",").map((u) => u.trim()).filter((u) => u !== "");
  const parsed = uris.map(parseRua).filter((r): r is Rua => r !== null);
  if (parsed.length === 0) return { none: "rua= names no mailto: or https: address" };
  return { record, rua: parsed };
}
