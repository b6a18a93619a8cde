import { expect, test } from "bun:test";
import { PollLoop, type PassResult } from "../../../src/util/poll-loop.ts";

/** A pass that records each run and answers from a script; resolves `reached(n)` when the nth pass starts. */
function scripted(results: PassResult[]) {
  let runs = 0;
  const waiters = new Map<number, () => void>();
  return {
    pass: async (): Promise<PassResult> => {
      runs++;
      waiters.get(runs)?.();
      return results[runs - 1] ?? "idle";
    },
    runs: () => runs,
    reached: (n: number) => (runs >= n ? Promise.resolve() : new Promise<void>((r) => waiters.set(n, r))),
  };
}

test("a pass that found more runs again at once; an idle one waits for the poll interval", async () => {
  const s = scripted(["more", "more", "idle"]);
  const loop = new PollLoop(s.pass, 60_000);
  loop.start();
  await s.reached(3);
  // The third pass said idle: with a minute to wait, no fourth pass comes on its own.
  await Promise.resolve();
  expect(s.runs()).toBe(3);
  await loop.stop();
  expect(loop.active).toBe(false);
});

test("a kick ends the wait at once, and a kick during a pass skips the next wait", async () => {
  const s = scripted(["idle", "idle", "idle"]);
  const loop = new PollLoop(s.pass, 60_000);
  loop.start();
  await s.reached(1);
  loop.kick();
  await s.reached(2);
  loop.kick();
  await s.reached(3);
  expect(s.runs()).toBe(3);
  await loop.stop();
});

test("stop during the wait resolves without another pass; start twice runs one loop", async () => {
  const s = scripted(["idle"]);
  const loop = new PollLoop(s.pass, 60_000);
  loop.start();
  loop.start();
  await s.reached(1);
  await loop.stop();
  expect(s.runs()).toBe(1);
});
