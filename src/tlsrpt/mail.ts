/**
 * A TLS report as mail (RFC 8460 §5.3): multipart/report with report-type="tlsrpt", a
 * short human part, and the gzip'd report as application/tlsrpt+gzip, named as §5.1 says;
 * the Subject and the TLS-Report-Domain / TLS-Report-Submitter fields as in §5.3.
 */
import { rfc5322Date } from "../smtp/trace.ts";
import { bytesToBase64 } from "../util/bytes.ts";

export interface ReportMail {
  /** The report-id. */
  reportId: string;
  /** The policy domain the report is about. */
  domain: string;
  /** The reporting host (TLS-Report-Submitter). */
  submitter: string;
  from: string;
  to: string;
  /** The report, gzip'd. */
  gzipped: Uint8Array;
  /** The day's bounds (ms), for the file name. */
  start: number;
  end: number;
  messageId: string;
  date: Date;
}

/** RFC 8460 §5.1: sender!policy-domain!begin!end!unique-id.json.gz (Unix seconds). */
export function reportFileName(m: Pick<ReportMail, "submitter" | "domain" | "start" | "end" | "reportId">): string {
  const unique = m.reportId.replace(/[^A-Za-z0-9.-]/g, "_");
  return `${m.submitter}!${m.domain}!${Math.floor(m.start / 1000)}!${Math.floor(m.end / 1000) - 1}!${unique}.json.gz`;
}

/** Base64 in lines of 76 characters (RFC 2045 §6.8). */
function base64Lines(bytes: Uint8Array): string {
  const b64 = bytesToBase64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join("\r\n");
}

export function buildReportMail(m: ReportMail): Uint8Array {
  const boundary = `=_tlsrpt_${m.messageId.replace(/[^A-Za-z0-9]/g, "")}`;
  const name = reportFileName(m);
  const text = [
    `This is an aggregate TLS report from ${m.submitter} for ${m.domain} (RFC 8460),`,
    `covering ${new Date(m.start).toISOString()} to ${new Date(m.end - 1000).toISOString()}.`,
  ].join("\r\n");
  return new TextEncoder().encode(
    [
      `From: <${m.from}>`,
      `To: <${m.to}>`,
      `Subject: Report Domain: ${m.domain} Submitter: ${m.submitter} Report-ID: <${m.reportId}>`,
      `Date: ${rfc5322Date(m.date)}`,
      `Message-ID: <${m.messageId}@${m.submitter}>`,
      `TLS-Report-Domain: ${m.domain}`,
      `TLS-Report-Submitter: ${m.submitter}`,
      "Auto-Submitted: auto-generated",
      "MIME-Version: 1.0",
      `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"`,
      "",
      "This is a multipart message in MIME format.",
      "",
      `--${boundary}`,
      "Content-Type: text/plain; charset=us-ascii",
      "Content-Transfer-Encoding: 7bit",
      "",
      text,
      "",
      `--${boundary}`,
      `Content-Type: application/tlsrpt+gzip; name="${name}"`,
      "Content-Transfer-Encoding: base64",
      `Content-Disposition: attachment; filename="${name}"`,
      "",
      base64Lines(m.gzipped),
      `--${boundary}--`,
      "",
    ].join("\r\n"),
  );
}

/** gzip with the Web platform's CompressionStream (Bun, Node, Deno and Workers alike). */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
