/**
 * The daily TLS reports (RFC 8460): once the UTC day is over, for every recipient domain
 * attempted that day that publishes `_smtp._tls.DOMAIN` with a rua, one report — claimed
 * in one statement, so it is made once whichever node gets there first — sent to each
 * rua: `mailto:` as a message through our own queue (DKIM-signed like accepted mail),
 * `https:` POSTed here with backoff (§5.3, §5.4). Runtime-neutral: DNS, the POST and the
 * signer are injected (src/runtime/bun-tlsrpt.ts on Bun).
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { MessageSigner } from "../dkim/signer.ts";
import { txtRecords, type DnsResolve } from "../domain-check/dns.ts";
import { newId } from "../smtp/ids.ts";
import type { NewMessage } from "../queue/enqueue.ts";
import { errorFields, type Logger } from "../core/log.ts";
import { checkDestination } from "../webhooks/destination.ts";
import { nextAttemptAt } from "../webhooks/schedule.ts";
import type { WebhookNetwork } from "../webhooks/sender.ts";
import { composeReport } from "./compose.ts";
import { buildReportMail, gzip } from "./mail.ts";
import { parseTlsRptRecord } from "./record.ts";
import { dayBounds, previousDay } from "./report.ts";
import { domainsToReport } from "./sessions.ts";
import type { ReportSettings } from "./settings.ts";
import { anyPostDue, claimReport, leaseDuePosts, markNoRecord, recordPost, RELAY_ACCOUNT, storeBuiltReport, type DuePost, type PostResult } from "./store.ts";
import { PollLoop, type PassResult } from "../util/poll-loop.ts";

/** After the 1st, 2nd, … failed POST; then the delivery has failed (§5.4: a day's report is worth little after some days). */
export const POST_RETRY_SECONDS = [60, 300, 1800, 7200, 21600, 43200, 86400];

export interface TlsReporterDeps {
  sql: Sql;
  writer: GroupCommit;
  resolve: DnsResolve;
  network: WebhookNetwork;
  /** Signs report mail with our key for its From: domain, when one exists. */
  signer?: MessageSigner;
  settings: ReportSettings;
  log: Logger;
  /** Tests: POST to loopback and private addresses. */
  allowPrivate?: boolean;
  retrySeconds?: readonly number[];
  pollMs?: number;
  timeoutMs?: number;
  now?: () => number;
  /** Called when report mail was queued (the delivery worker's kick). */
  onQueued?: () => void;
}

const CLAIM_MS = 10 * 60_000;
const ANSWER_BYTES = 256;

export class TlsReporter {
  readonly owner = `r-${newId(6)}`;
  private readonly loop: PollLoop;
  /** The last day this node found nothing left to report (a day's pass is not repeated). */
  private doneDay: string | null = null;
  private readonly now: () => number;

  constructor(private readonly deps: TlsReporterDeps) {
    this.now = deps.now ?? Date.now;
    this.loop = new PollLoop(() => this.pass(), deps.pollMs ?? 60_000);
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One turn of the loop: yesterday's reports made, then what is due sent. */
  private async pass(): Promise<PassResult> {
    try {
      await this.reportDay();
      await this.sendDue();
    } catch (err) {
      this.deps.log("tlsrpt_error", { error: errorFields(err) });
    }
    return "idle";
  }

  /** Makes yesterday's reports not made yet (by any node). Returns how many this node made. */
  async reportDay(): Promise<number> {
    const day = previousDay(this.now());
    if (this.doneDay === day) return 0;
    let made = 0;
    let complete = true;
    for (const domain of await domainsToReport(this.deps.sql, day, this.now())) {
      const row = await this.deps.writer.write((sql) => claimReport(sql, domain, day, this.owner, this.now(), CLAIM_MS));
      if (row === null) continue;
      try {
        if (await this.makeReport(row, domain, day)) made++;
      } catch (err) {
        // The claim runs out and this node or another tries again.
        this.deps.log("tlsrpt_report_failed", { domain, day, error: errorFields(err) });
        complete = false;
      }
    }
    if (complete) this.doneDay = day;
    return made;
  }

  private async makeReport(row: number, domain: string, day: string): Promise<boolean> {
    const { settings, log } = this.deps;
    const txt = await txtRecords(this.deps.resolve, `_smtp._tls.${domain}`);
    if ("failed" in txt) throw new Error(txt.failed);
    const found = parseTlsRptRecord(txt);
    if ("none" in found) {
      await this.deps.writer.write((sql) => markNoRecord(sql, row, this.owner, found.none, this.now()));
      return false;
    }
    const report = await composeReport(this.deps.sql, domain, day, settings);
    const json = JSON.stringify(report);
    const gzipped = await gzip(new TextEncoder().encode(json));
    const { start, end } = dayBounds(day);
    const mail: { uri: string; message: NewMessage }[] = [];
    for (const r of found.rua) {
      if (r.kind !== "mailto") continue;
      const id = newId();
      const raw = buildReportMail({ reportId: report["report-id"], domain, submitter: settings.submitter, from: settings.contact, to: r.address!, gzipped, start, end, messageId: id, date: new Date(this.now()) });
      const signed = this.deps.signer ? await this.deps.signer.sign(raw, [settings.contact]) : raw;
      const to = r.address!;
      // Queued as the relay's own mail, like a DSN: from the null sender, never bounced back.
      mail.push({ uri: r.uri, message: { id, accountId: RELAY_ACCOUNT.id, source: "dsn", mailFrom: "", raw: signed, recipients: [{ address: to, domain: to.slice(to.lastIndexOf("@") + 1), notify: "NEVER" }], smtputf8: /[^\x00-\x7f]/.test(to) } });
    }
    const https = found.rua.filter((r) => r.kind === "https").map((r) => r.uri);
    const stored = await this.deps.writer.write((sql) => storeBuiltReport(sql, { row, owner: this.owner, reportId: report["report-id"], json, record: found.record, https, mail }, this.now()), { isolated: true });
    if (!stored) return false;
    log("tlsrpt_report", { domain, day, report_id: report["report-id"], mailto: mail.length, https: https.length });
    if (mail.length > 0) this.deps.onQueued?.();
    return true;
  }

  /** POSTs the `https:` reports that are due. Returns how many were tried. */
  async sendDue(): Promise<number> {
    if (!(await anyPostDue(this.deps.sql, this.now()))) return 0;
    const timeoutMs = this.deps.timeoutMs ?? 30_000;
    const due = await this.deps.writer.write((sql) => leaseDuePosts(sql, this.now(), timeoutMs * 2 + 5_000, 8));
    await Promise.all(due.map((d) => this.post(d, timeoutMs)));
    return due.length;
  }

  private async post(d: DuePost, timeoutMs: number): Promise<void> {
    let result: PostResult;
    try {
      result = await this.postOnce(d, timeoutMs);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      result = this.failed(d, null, typeof code === "string" ? `error: ${code}` : `error: ${(err as Error)?.name ?? "request failed"}`);
    }
    await this.deps.writer.write((sql) => recordPost(sql, d.id, result, this.now()));
    this.deps.log("tlsrpt_post", { domain: d.domain, day: d.day, uri: d.uri, attempt: d.attempts + 1, status: result.status, state: result.state });
  }

  private async postOnce(d: DuePost, timeoutMs: number): Promise<PostResult> {
    // The rua is the domain's to choose: never a private address (as for webhooks).
    const destination = await checkDestination(d.uri, this.deps.allowPrivate ?? false, this.deps.network.resolveHost);
    if ("problem" in destination) return this.failed(d, null, destination.problem);
    const body = await gzip(new TextEncoder().encode(d.json));
    const res = await this.deps.network.post(
      d.uri,
      // RFC 8460 §5.2: the gzip'd report, application/tlsrpt+gzip.
      { method: "POST", headers: { "content-type": "application/tlsrpt+gzip", "user-agent": "smarthost-tlsrpt" }, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) },
      destination.addresses ?? [],
    );
    const answer = (await res.text().catch(() => "")).slice(0, ANSWER_BYTES);
    if (res.status >= 200 && res.status < 300) return { state: "sent", status: res.status, answer };
    return this.failed(d, res.status, answer);
  }

  private failed(d: DuePost, status: number | null, answer: string): PostResult {
    const next = nextAttemptAt(this.now(), d.attempts + 1, this.deps.retrySeconds ?? POST_RETRY_SECONDS, null);
    return next === null ? { state: "failed", status, answer } : { state: "pending", status, answer, nextAttemptAt: next };
  }
}
