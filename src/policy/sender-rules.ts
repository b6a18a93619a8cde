/**
 * Which sender addresses an account may use. Patterns: "user@example.com" (exact),
 * "*@example.com" or "example.com" (any address at that domain). Case-insensitive.
 */

export function normalizePattern(input: string): string | null {
  const p = input.trim().toLowerCase();
  const domain = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
  if (domain.test(p)) return p;
  const at = p.lastIndexOf("@");
  if (at <= 0) return null;
  const local = p.slice(0, at);
  const host = p.slice(at + 1);
  if (!domain.test(host)) return null;
  if (local === "*") return `*@${host}`;
  return /^[^\s@*]+$/.test(local) ? `${local}@${host}` : null;
}

export function senderAllowed(patterns: readonly string[], address: string): boolean {
  const a = address.toLowerCase();
  const at = a.lastIndexOf("@");
  if (at <= 0) return false;
  const domain = a.slice(at + 1);
  return patterns.some((p) => p === a || p === domain || p === `*@${domain}`);
}
