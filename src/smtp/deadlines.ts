/**
 * The clocks of one SMTP connection, kept apart from sockets so they can be reasoned about
 * (and tested) with plain numbers. RFC 5321 §4.5.3.2 asks for an *idle* timeout; alone it
 * lets a client hold a connection by trickling octets, so two more limits follow Postfix
 * (smtpd_per_request_deadline, smtpd_min_data_rate):
 * - idle: no input at all for `idleMs` while the session waits for the client;
 * - command: a command line, and a TLS handshake, must be complete within `commandMs` of
 *   its start, however the octets trickle in;
 * - data rate: while message data is read, each read of N octets moves the deadline
 *   N / minDataRate seconds later, never past now + commandMs; a client averaging less
 *   than the minimum runs out of time.
 */

/** What the session waits for; "busy" while it works (the client is not late then). */
export type Waiting = "busy" | "command" | "partial-command" | "body" | "handshake";

export type Expiry = "idle" | "command" | "data-rate" | "handshake";

export interface DeadlineLimits {
  readonly idleMs: number;
  readonly commandMs: number;
  /** Octets per second of message data; 0 turns the minimum off. */
  readonly minDataRate: number;
}

export class Deadlines {
  private lastInput: number;
  private lineSince: number | null = null;
  private lineProgress = -1;
  private bodyDeadline: number | null = null;
  private handshakeSince: number | null = null;

  constructor(
    private readonly limits: DeadlineLimits,
    now: number,
  ) {
    this.lastInput = now;
  }

  /** `n` octets arrived while the session waited for `waiting`. */
  input(n: number, waiting: Waiting, now: number): void {
    this.lastInput = now;
    const rate = this.limits.minDataRate;
    if (waiting === "body" && this.bodyDeadline !== null && rate > 0) {
      this.bodyDeadline = Math.min(now + this.limits.commandMs, this.bodyDeadline + (n * 1000) / rate);
    }
  }

  /** Activity that is not application input (a finished TLS handshake) still resets the idle clock. */
  touch(now: number): void {
    this.lastInput = now;
  }

  /**
   * What the session waits for now, after consuming its input; `progress` counts the
   * units (lines, bodies) it has consumed, so a partial line behind a finished one is
   * known to be a new line.
   */
  observe(waiting: Waiting, progress: number, now: number): void {
    // Mid-work the state is in flux: keep the clocks as they are.
    if (waiting === "busy") return;
    if (waiting !== "partial-command") this.lineSince = null;
    else if (this.lineSince === null || progress !== this.lineProgress) {
      // The unfinished line came with the latest input.
      this.lineSince = this.lastInput;
      this.lineProgress = progress;
    }
    if (waiting !== "body") this.bodyDeadline = null;
    else this.bodyDeadline ??= now + this.limits.commandMs;
    if (waiting !== "handshake") this.handshakeSince = null;
    else this.handshakeSince ??= now;
  }

  /** The earliest deadline for what was last observed; null while the session is busy. */
  next(waiting: Waiting): { at: number; expiry: Expiry } | null {
    if (waiting === "busy") return null;
    if (waiting === "handshake") return { at: (this.handshakeSince ?? this.lastInput) + this.limits.commandMs, expiry: "handshake" };
    let best: { at: number; expiry: Expiry } = { at: this.lastInput + this.limits.idleMs, expiry: "idle" };
    if (waiting === "partial-command" && this.lineSince !== null) {
      const at = this.lineSince + this.limits.commandMs;
      if (at < best.at) best = { at, expiry: "command" };
    }
    if (waiting === "body" && this.bodyDeadline !== null && this.limits.minDataRate > 0 && this.bodyDeadline < best.at) {
      best = { at: this.bodyDeadline, expiry: "data-rate" };
    }
    return best;
  }
}
