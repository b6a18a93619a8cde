/**
 * A list as aligned columns under a header line, the way `docker ps` or `postal` print
 * theirs: each column as wide as its widest cell (measured in terminal cells, so an
 * internationalized address does not push the next column off), two spaces between
 * columns, the last column not padded. Pure: what the commands print, testable alone.
 */

/** A cell as text: "-" for nothing, lists joined with commas, one line (a reply may hold line breaks). */
export function cellText(v: unknown): string {
  if (v === null || v === undefined || v === "") return "-";
  if (Array.isArray(v)) return v.length === 0 ? "-" : v.map(cellText).join(",");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v).replace(/\s*[\r\n\t]\s*/g, " ").trim() || "-";
}

/** Terminal cells a string takes: wide (CJK) characters count two, combining marks none. */
const width = (s: string): number => Bun.stringWidth(s);

/** Header and rows as lines; the header is each key in capitals (`last_used_at` → `LAST_USED_AT`). */
export function formatTable(rows: readonly Record<string, unknown>[]): string[] {
  if (rows.length === 0) return [];
  const keys = Object.keys(rows[0]!);
  const cells = rows.map((r) => keys.map((k) => cellText(r[k])));
  const header = keys.map((k) => k.toUpperCase());
  const widths = keys.map((_, i) => Math.max(width(header[i]!), ...cells.map((c) => width(c[i]!))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v + " ".repeat(widths[i]! - width(v))))
      .join("  ")
      .trimEnd();
  return [line(header), ...cells.map(line)];
}
