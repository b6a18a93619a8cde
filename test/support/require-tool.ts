/** Interop tests need Debian's tools; a missing one fails loudly instead of skipping. */
export function requireTool(name: string): string {
  const path = Bun.which(name, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` });
  if (!path) throw new Error(`${name} is not installed: run .ci/run or apt-get install the interop peers (see README)`);
  return path;
}

export async function run(cmd: string[], input?: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(cmd, { stdin: input === undefined ? "ignore" : "pipe", stdout: "pipe", stderr: "pipe" });
  if (input !== undefined && proc.stdin) {
    proc.stdin.write(input);
    await proc.stdin.end();
  }
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}
