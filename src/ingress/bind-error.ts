/**
 * A listen address that cannot be bound, said in one line that names the address and the
 * variable that set it (a Failure of kind "config", code "listen": the command prints it and exits 1, no stack).
 */
import { type ListenAddress } from "../config.ts";
import { Failure } from "../core/failure.ts";

const REASONS: Record<string, string> = {
  EADDRINUSE: "is in use",
  EACCES: "may not be bound by this user",
  EADDRNOTAVAIL: "is not an address of this machine",
};

/** The one-line error for a failed bind; other errors are returned unchanged. */
export function listenError(err: unknown, at: ListenAddress, variable: string): unknown {
  const code = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
  const reason = typeof code === "string" ? REASONS[code] : undefined;
  if (!reason) return err;
  const host = at.host.includes(":") ? `[${at.host}]` : at.host;
  return new Failure("config", `${host}:${at.port} ${reason} (${variable})`, { code: "listen" });
}
