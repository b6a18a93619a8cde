// mailauth's DKIM building blocks (canonicalization, body hash, header formatting), which
// its package ships without types. Only what src/dkim/ and src/domain-check/ use is declared.
declare module "mailauth/lib/dkim/body/index.js" {
  interface BodyHasher {
    update(chunk: Uint8Array): void;
    digest(encoding: "base64"): string;
  }
  export function dkimBody(canonicalization: "relaxed" | "simple", hashAlgo: "sha256", maxBodyLength: false): BodyHasher;
}

declare module "mailauth/lib/dkim/header/relaxed.js" {
  export interface SigningHeaderLines {
    /** The h= value. */
    keys: string;
    /** The signed header fields, in h= order, each the whole field as it appears (folded). */
    headers: { line: string }[];
  }
  export interface DkimTagValues {
    [tag: string]: string | number;
  }
  export function relaxedHeaders(
    type: "DKIM",
    lines: SigningHeaderLines,
    options: { signingDomain: string; selector: string; algorithm: string; canonicalization: string; bodyHash: string; signTime: Date },
  ): { canonicalizedHeader: Uint8Array; dkimHeaderOpts: DkimTagValues };
}

declare module "mailauth/lib/tools.js" {
  export function formatSignatureHeaderLine(type: "DKIM", values: Record<string, string | number>, folded: boolean): string;
  /** The first of `domains` in `fromDomain`'s organizational domain (tldts, private suffixes included), else false. */
  export function getAlignment(fromDomain: string, domains: string[], strict?: boolean): { domain: string } | false;
}
