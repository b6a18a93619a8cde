/**
 * The delivery worker: leases due recipients, sends each message/domain group along its
 * routes (failover in order; for MX, host by host), and records per-recipient outcomes:
 * delivered, deferred with backoff, or bounced with a DSN to the sender.
 */
import { loadMessage, type StoredMessage } from "../queue/stored.ts";
import { leaseDueGroups, postponeLease, releaseLease, type DeliveryGroup } from "../queue/lease.ts";
import { recordOutcomes, replyLine } from "../queue/outcomes.ts";
import type { Handoff, Lease } from "../queue/handoff.ts";
import { newId } from "../smtp/ids.ts";
import { buildDsn } from "./dsn.ts";
import { mxHostsFor } from "./mx.ts";
import { routesFor, type Route } from "./routing.ts";
import { ConnectionPool } from "./pool.ts";
import { Slots } from "./slots.ts";
import { CachedMap } from "../util/cached.ts";
import { recipientUpdates, type Attempt } from "./decide.ts";
import type { DeliveryDeps } from "./worker-config.ts";
import { RouteGate } from "../shaping/route-gate.ts";
import { DEFAULT_BREAKER } from "../shaping/route-health.ts";
import { DestinationShaper } from "../shaping/destination-gate.ts";
import type { Shape } from "../shaping/shapes.ts";
import { errorFields } from "../core/log.ts";
import { PollLoop, type PassResult } from "../util/poll-loop.ts";
import { Housekeeping } from "./housekeeping.ts";
import { tryRoutes } from "./failover.ts";
import { targetsFor, type TargetDeps } from "./targets.ts";

export type { DeliveryConfig, DeliveryDeps } from "./worker-config.ts";

interface Job {
  group: DeliveryGroup;
  routes: Route[];
  /** The destination's shape (src/shaping/shapes.ts), when one applies. */
  shape: Shape | null;
}


const ROUTE_CACHE_MS = 5_000;
// An outcome's route for /metrics: a relay's label (failover.ts's `via`), every MX host as "mx".
const routeOf = (via: string) => (via.startsWith("mx ") ? "mx" : via);
// How long work for a destination at its concurrency limit steps aside.
const BUSY_RETRY_MS = 1000;


export class DeliveryWorker implements Handoff {
  readonly owner = `w-${newId(6)}`;
  /** Leases given out for messages being committed now, not yet taken or cancelled. */
  private claimed = 0;
  private readonly slots: Slots<Job>;
  private readonly loop: PollLoop;
  private readonly housekeeping: Housekeeping;
  private readonly targetDeps: TargetDeps;
  private readonly inFlight = new Set<Promise<void>>();
  /** The last lease filled all its room: more may be due than it took. */
  private backlog = true;
  private readonly now: () => number;

  private readonly pool: ConnectionPool;
  private readonly gate: RouteGate;
  private readonly shaper: DestinationShaper;
  /** Each domain's routes, re-read every few seconds (routes change rarely). */
  private readonly routes = new CachedMap(ROUTE_CACHE_MS, (domain: string) => routesFor(this.deps.db, domain, this.deps.config.defaultUpstream, this.deps.secrets));

  constructor(private readonly deps: DeliveryDeps) {
    this.now = deps.now ?? Date.now;
    this.slots = new Slots(deps.config.concurrency, deps.config.perDestination, deps.config.perDestination * 4);
    this.gate = new RouteGate({ sql: deps.sql, writer: deps.writer, log: deps.log, breaker: { ...DEFAULT_BREAKER, ...deps.config.breaker } });
    this.shaper = new DestinationShaper({
      db: deps.db,
      writer: deps.writer,
      log: deps.log,
      mxNamesOf: async (domain) => {
        const l = await mxHostsFor(domain, deps.resolver, deps.config.allowPrivateMx);
        return l.ok ? l.hosts.map((h) => h.name) : [];
      },
    });
    const client = { ehloName: deps.config.hostname, timeouts: deps.config.timeouts, certificates: deps.dane?.certificates };
    this.pool = new ConnectionPool(deps.connect, client, deps.config.reuseConnections === false ? 0 : undefined);
    this.loop = new PollLoop(() => this.pass(), deps.config.pollMs);
    this.targetDeps = { resolver: deps.resolver, dane: deps.dane?.lookup, mtaSts: deps.mtaSts, log: deps.log, allowPrivateMx: deps.config.allowPrivateMx, mxPort: deps.config.mxPort };
    this.housekeeping = new Housekeeping({ writer: deps.writer, sql: deps.sql, log: deps.log, retentionMs: deps.config.retentionMs });
  }

  private get running(): boolean {
    return this.loop.active;
  }

  start(): void {
    this.loop.start();
  }

  /** Stops leasing; waits for deliveries under way to be recorded. */
  async stop(): Promise<void> {
    await this.loop.stop();
    const waiting = this.slots.drainWaiting().flatMap((j) => j.group.recipients.map((r) => r.id));
    await releaseLease(this.deps.writer, this.owner, waiting, 0).catch((err) => this.deps.log("release_failed", { error: errorFields(err) }));
    await Promise.all(this.inFlight);
    await this.pool.closeAll();
  }

  /**
   * A lease for a message about to be committed, while there is room for it: the same
   * room the loop leases into, so a crash leaves no more recipients waiting for their
   * lease to run out than it did before.
   */
  claim(now: number): Lease | null {
    const c = this.deps.config;
    if (!this.running || c.relayOnly || this.slots.held + this.claimed >= c.concurrency * 2) return null;
    this.claimed++;
    return { owner: this.owner, until: now + c.leaseMs };
  }

  take(message: StoredMessage, groups: DeliveryGroup[]): void {
    this.claimed = Math.max(0, this.claimed - 1);
    if (!this.running) {
      // Stopped while the message was being committed: the recipients go back to the queue.
      void releaseLease(this.deps.writer, this.owner, groups.flatMap((g) => g.recipients.map((r) => r.id)), 0).catch((err) => this.deps.log("release_failed", { error: errorFields(err) }));
      return;
    }
    for (const g of groups) {
      void this.offer({ ...g, message }).catch((err) => this.deps.log("delivery_error", { message: message.id, domain: g.domain, error: errorFields(err) }));
    }
  }

  cancel(): void {
    this.claimed = Math.max(0, this.claimed - 1);
  }

  /** Look for due work now (after an accept, or when a slot frees). */
  kick(): void {
    this.loop.kick();
  }

  /** One turn of the loop: the chores whose turn has come (housekeeping.ts), then a lease of what is due. */
  private async pass(): Promise<PassResult> {
    const { config } = this.deps;
    await this.housekeeping.due(this.now());
    // Lease a little more than can run at once, so work is ready when a slot frees.
    const room = config.concurrency * 2 - this.slots.held;
    if (room > 0) {
      try {
        const groups = await leaseDueGroups(this.deps.writer, this.owner, this.now(), config.leaseMs, room);
        this.backlog = groups.length >= room;
        for (const g of groups) await this.offer(g);
      } catch (err) {
        this.deps.log("lease_failed", { error: errorFields(err) });
      }
    }
    return "idle";
  }

  /**
   * One pass without the loop, for runtimes driven by events (a Workers cron or an accept):
   * lease what is due now, deliver it, wait for the outcomes. Returns the groups it tried
   * (not those given back: another node's to deliver, or a busy destination's).
   */
  async drainOnce(): Promise<number> {
    await this.housekeeping.releaseHeld(this.now());
    const groups = await leaseDueGroups(this.deps.writer, this.owner, this.now(), this.deps.config.leaseMs, this.deps.config.concurrency);
    let taken = 0;
    for (const g of groups) if (await this.offer(g)) taken++;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    return taken;
  }

  /** true: delivered or waiting for a slot here; false: given back to the queue. */
  private async offer(group: DeliveryGroup): Promise<boolean> {
    let routes: Route[];
    try {
      routes = await this.routes.get(group.domain, this.now());
    } catch (err) {
      // Routes unusable now (a sealed password that does not open with this node's key):
      // these recipients wait for a retry; the rest of the queue goes on.
      this.deps.log("delivery_error", { message: group.messageId, domain: group.domain, error: errorFields(err) });
      await releaseLease(this.deps.writer, this.owner, group.recipients.map((r) => r.id), this.now() + this.deps.config.retryBaseMs);
      return false;
    }
    if (this.deps.config.relayOnly && routes.some((r) => r.kind === "mx")) {
      // Not this node's to deliver: give it straight back for a node that can reach port 25.
      await releaseLease(this.deps.writer, this.owner, group.recipients.map((r) => r.id), 0);
      return false;
    }
    const first = routes[0];
    const direct = !first || first.kind === "mx";
    // A shape that cannot be read leaves the group unshaped this once; the operator hears of it.
    const shape = await this.shaper.shapeOf(group.domain, direct, this.now()).catch((err) => {
      this.deps.log("shape_lookup_failed", { message: group.messageId, domain: group.domain, error: errorFields(err) });
      return null;
    });
    // A shaped destination is one key however many domains it serves (every domain at Gmail's MX).
    const key = shape ? `shape:${shape.pattern}` : direct ? `mx:${group.domain}` : first.label;
    const job = { group, routes, shape };
    const offer = this.slots.offer(key, job, shape?.connections ?? undefined);
    if (offer === "start") this.launch(key, job);
    else if (offer === "refuse") {
      // A slow or stuck destination keeps its own slots; the rest of the queue goes on.
      await releaseLease(this.deps.writer, this.owner, group.recipients.map((r) => r.id), this.now() + BUSY_RETRY_MS);
      return false;
    }
    return true;
  }

  private launch(key: string, job: Job): void {
    const p = this.run(key, job);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async run(key: string, job: Job): Promise<void> {
    // Leave the lease to run out on an error: the recipients come back, nothing is lost.
    const failed = (err: unknown) => this.deps.log("delivery_error", { message: job.group.messageId, domain: job.group.domain, error: errorFields(err) });
    let sent: { recorded: Promise<void> } | void = undefined;
    try {
      sent = await this.deliverGroup(job.group, job.routes, job.shape);
    } catch (err) {
      failed(err);
    } finally {
      for (const next of this.slots.finish(key)) this.launch(next.key, next.item);
      // A freed slot looks for due work only when the last lease may have left some: new
      // mail arrives by hand-off or wakes the loop itself, retries come with the poll.
      if (this.backlog) this.kick();
    }
    await sent?.recorded.catch(failed);
  }

  /** Sends the group; resolves when the sessions are done, with the recording of its outcomes still under way. */
  private async deliverGroup(group: DeliveryGroup, routes: Route[], shape: Shape | null): Promise<{ recorded: Promise<void> } | void> {
    const m = group.message ?? (await loadMessage(this.deps.sql, group.messageId));
    if (!m) throw new Error(`message ${group.messageId} not found`);
    if (shape) {
      // The destination's pace comes first: before its slot, nothing is tried anywhere.
      const pace = await this.shaper.admit(shape, this.now());
      if (!pace.ok) {
        const reason = `destination_pace: ${shape.pattern} until ${new Date(pace.until).toISOString()}`;
        await postponeLease(this.deps.writer, this.owner, m.id, group.recipients.map((r) => r.id), pace.until, reason, this.now());
        return;
      }
    }
    const verp = (await this.deps.returnPaths?.senderFor(m)) ?? null;
    const { final, wait } = await tryRoutes(
      {
        gate: this.gate,
        targetsFor: (route, domain) => targetsFor(this.targetDeps, route, domain),
        send: (target, message) => this.pool.send(target, message),
        observeMx: shape ? (results) => this.shaper.observe(shape, results, this.now()) : undefined,
        verp,
        now: this.now,
      },
      { routes, domain: group.domain, recipients: group.recipients, message: { mailFrom: m.mailFrom, raw: m.raw, smtputf8: m.smtputf8, envid: m.envid, ret: m.ret } },
    );
    // Recipients no route was tried for (each was down or at its quota) wait for the
    // soonest reopening: our own pacing, so no attempt is counted and no backoff grows.
    const untried = group.recipients.filter((r) => !final.has(r.id));
    if (wait && untried.length > 0) {
      const reason = `${wait.reason}: ${wait.route} until ${new Date(wait.until).toISOString()}`;
      await postponeLease(this.deps.writer, this.owner, m.id, untried.map((r) => r.id), wait.until, reason, this.now());
      for (const r of untried) this.deps.log("waiting", { message: m.id, rcpt: r.address, reason });
      const tried = group.recipients.filter((r) => final.has(r.id));
      if (tried.length === 0) return;
      group = { ...group, recipients: tried };
    }
    // Not awaited here: the destination's slot is free once the session is done, while the
    // outcome waits to share a commit (src/db/group-commit.ts, lazyMs).
    return { recorded: this.record(group, m, final) };
  }

  private async record(group: DeliveryGroup, m: StoredMessage, final: Map<number, Attempt>): Promise<void> {
    const c = this.deps.config;
    const now = this.now();
    const updates = recipientUpdates(group.recipients, m, final, c, now);
    const recorded = new Set(await recordOutcomes(this.deps.writer, this.owner, m.id, updates, now, (due) => buildDsn(m, due, c.hostname, new Date(now))));
    // Counted once recorded, and only what this worker's lease still held (another worker counts the rest).
    for (const u of updates) if (recorded.has(u.id)) this.deps.observer?.deliveryRecorded(u.state, routeOf(u.via), (this.now() - m.createdAt) / 1000);
    // A bounce may have queued a DSN: due now, for the loop to find.
    if (updates.some((u) => u.state === "bounced")) {
      this.backlog = true;
      this.kick();
    }
    for (const u of updates) this.deps.log(u.state, { message: m.id, rcpt: u.address, via: u.via, reply: replyLine(u.reply) });
  }
}
