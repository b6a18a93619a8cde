/**
 * Making commits durable off the event loop. A COMMIT at synchronous=NORMAL writes the
 * transaction's WAL frames without waiting for the disk; syncing the WAL file afterwards
 * (any descriptor of the file will do: fsync flushes the file, not the descriptor) makes
 * every frame written before that sync durable — what synchronous=FULL does inside COMMIT,
 * but here the sync runs on the runtime's I/O threads while this thread goes on accepting
 * and delivering, and the next group can commit while the last one's sync is under way.
 * Nobody is answered before the sync that followed their COMMIT has finished.
 */

/**
 * Coalesces syncs: `sync()` resolves after a sync that *started* after the call (one
 * already under way may have missed the caller's frames), and all callers waiting for the
 * next sync share it.
 */
export class SyncCoalescer {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly syncOnce: () => Promise<void>) {}

  sync(): Promise<void> {
    if (!this.running) return this.start();
    this.next ??= this.running
      .catch(() => {})
      .then(() => {
        this.next = null;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<void> {
    const p = this.syncOnce().finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }
}
