/** CPU time and resident memory of a set of processes, read from /proc. */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const TICKS = 100; // USER_HZ on Linux

function stat(pid: number): { cpu: number; rss: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = s.slice(s.lastIndexOf(")") + 2).split(" ");
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    return { cpu, rss };
  } catch {
    return null;
  }
}

/** Every process whose executable path starts with one of `prefixes` (a whole Postfix instance). */
export function pidsByExe(prefixes: string[]): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const exe = readlinkSync(`/proc/${pid}/exe`);
        return prefixes.some((p) => exe.startsWith(p));
      } catch {
        return false;
      }
    });
}

/** A process and all its descendants. */
export function treeOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** Samples CPU seconds and peak RSS of whatever `pids()` returns, every 100 ms, until stopped. */
export class Sampler {
  private peak = 0;
  private readonly cpuByPid = new Map<number, number>();
  private readonly startCpu: number;
  private timer: ReturnType<typeof setInterval>;

  constructor(private readonly pids: () => number[]) {
    this.startCpu = this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): number {
    let rss = 0;
    for (const pid of this.pids()) {
      const s = stat(pid);
      if (!s) continue;
      rss += s.rss;
      this.cpuByPid.set(pid, s.cpu);
    }
    this.peak = Math.max(this.peak, rss);
    return [...this.cpuByPid.values()].reduce((a, b) => a + b, 0);
  }

  stop(): { cpuSeconds: number; peakRss: number } {
    clearInterval(this.timer);
    const end = this.sample();
    return { cpuSeconds: end - this.startCpu, peakRss: this.peak };
  }
}
