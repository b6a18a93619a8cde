/** The tables of bench/RESULTS.md: every row, then smarthost relative to the peers in the same scenario. */

export interface Row {
  scenario: string;
  peer: string;
  accepted: number;
  delivered: number;
  p50: number;
  p99: number;
  cpuPer1000: number;
  peakRssMb: number;
  /** The load generator's own CPU: the servers share the 2 cores with it. */
  loadCpuPer1000: number;
}

export const f = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : "–");

export function table(rows: Row[]): string {
  const head =
    "| scenario | server | accepted msg/s | delivered msg/s | accept p50 ms | accept p99 ms | CPU s / 1000 msg | peak RSS MB | load gen CPU s / 1000 msg |\n|---|---|---:|---:|---:|---:|---:|---:|---:|";
  const body = rows.map(
    (r) => `| ${r.scenario} | ${r.peer} | ${f(r.accepted)} | ${f(r.delivered)} | ${f(r.p50, 1)} | ${f(r.p99, 1)} | ${f(r.cpuPer1000, 2)} | ${f(r.peakRssMb)} | ${f(r.loadCpuPer1000, 2)} |`,
  );
  return [head, ...body].join("\n");
}

/**
 * One line per smarthost row (a scenario may have two: DKIM with RSA, and RSA + Ed25519),
 * against the row of the scenario whose server name starts with "Postfix" or "Haraka"
 * (e.g. "Postfix + OpenDKIM"), with or without AUTH as the smarthost row is.
 */
const noAuth = (r: Row) => r.peer.includes("no AUTH");
const times = (a: number, b: number | undefined): string => (Number.isFinite(a / (b ?? NaN)) ? `${f(a / b!, 1)}×` : "–");

export function ratios(rows: Row[]): string {
  const out = ["| scenario | accepted ÷ Postfix | delivered ÷ Postfix | accepted ÷ Haraka | delivered ÷ Haraka |", "|---|---:|---:|---:|---:|"];
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    const here = rows.filter((r) => r.scenario === scenario);
    for (const sh of here.filter((r) => r.peer.startsWith("smarthost"))) {
      // A "no AUTH" row is held against the peer's "no AUTH" row, and only that.
      const peer = (name: string) => here.find((r) => r.peer.startsWith(name) && noAuth(r) === noAuth(sh));
      const pf = peer("Postfix");
      const hk = peer("Haraka");
      const name = sh.peer === "smarthost" ? scenario : `${scenario} — ${sh.peer}`;
      out.push(
        `| ${name} | ${times(sh.accepted, pf?.accepted)} | ${times(sh.delivered, pf?.delivered)} | ${times(sh.accepted, hk?.accepted)} | ${times(sh.delivered, hk?.delivered)} |`,
      );
    }
  }
  return out.join("\n");
}
