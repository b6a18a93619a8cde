/**
 * The loop a background worker runs (the delivery worker, the webhook sender): one pass,
 * then wait `pollMs` unless the pass found more to do or someone kicked the loop meanwhile
 * (an accept, a freed slot, stop). The pass catches its own failures; the loop never dies
 * of one.
 */
export type PassResult = "more" | "idle";

export class PollLoop {
  private running = false;
  private kicked = false;
  private wake: (() => void) | null = null;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly pass: () => Promise<PassResult>,
    private readonly pollMs: number,
  ) {}

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.run();
  }

  /** Ends the loop after the pass under way; resolves when it has. */
  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.done;
  }

  /** Run the next pass now rather than after the wait. */
  kick(): void {
    if (this.wake) this.wake();
    else this.kicked = true;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.kicked = false;
      const result = await this.pass();
      if (result === "idle" && !this.kicked && this.running) await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      const t = setTimeout(done, this.pollMs);
      this.wake = done;
    });
  }
}
