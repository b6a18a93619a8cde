/** A small deterministic generator (xorshift) for randomized tests, so a failure is repeatable: `next(n)` is in [0, n). */
export function random(seed: number): (n: number) => number {
  let x = seed;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}
