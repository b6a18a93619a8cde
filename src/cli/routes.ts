/** `route …` commands. */
import { checkRouteUrl, findRoute, listRoutes, maskRouteUrl, removeRoute } from "../admin/route-list.ts";
import { addRoute, setRouteQuota, type QuotaInput } from "../admin/routes.ts";
import { JSON_OPTION, limitValue, printRows, SECRET_OPTIONS, secretFrom, withDb } from "./io.ts";
import type { Command, Context, Option } from "./table.ts";
import { Failure } from "../core/failure.ts";

const quotaOptions = (none: string): Record<string, Option> => ({
  "per-second": { type: "string", value: `N${none}`, help: "the provider plan's messages per second" },
  "per-minute": { type: "string", value: `N${none}`, help: "messages per minute" },
  "per-day": { type: "string", value: `N${none}`, help: "messages per UTC day" },
});

function quotaFrom(values: Context["values"], allowNone: boolean): QuotaInput {
  return {
    perSecond: limitValue(values["per-second"], "per-second", allowNone),
    perMinute: limitValue(values["per-minute"], "per-minute", allowNone),
    perDay: limitValue(values["per-day"], "per-day", allowNone),
  };
}

const quotaText = (q: QuotaInput) => (["perSecond", "perMinute", "perDay"] as const).filter((k) => q[k] != null).map((k) => `${k.replace("per", "per-").toLowerCase()} ${q[k]}`).join(", ");

/** The route URL with a password given apart from it (stdin or environment) put in its place. */
export function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Failure("invalid", `"${maskRouteUrl(url)}" is not a route: use mx, smtp://[user:pass@]host:port or smtps://…`);
  }
  if (u.username === "") throw new Failure("invalid", "a password needs a user name in the URL: smtp://user@host:port");
  if (u.password !== "") throw new Failure("invalid", "the URL already holds a password");
  // Encoded whole: the URL setter leaves "%" as it is, and delivery decodes the password.
  u.password = encodeURIComponent(password);
  return u.href;
}

export const routeCommands: Command[] = [
  {
    name: "route add",
    args: "DOMAIN|* URL",
    summary: "where mail for a recipient domain goes: mx, smtp://[user[:pass]@]host:port (STARTTLS when offered)\nor smtps://… (implicit TLS); several for one domain are tried in order, skipping one that is\ndown or has spent its quota (--per-second/--per-minute/--per-day: the provider plan)",
    options: { ...SECRET_OPTIONS, ...quotaOptions("") },
    async run(ctx) {
      const [domain, given] = ctx.args as [string, string];
      const quota = quotaFrom(ctx.values, false);
      const url = withPassword(given, await secretFrom(ctx));
      checkRouteUrl(url);
      const position = await withDb(ctx.config, (db, secrets) => addRoute(db, secrets, domain, url, quota));
      const q = quotaText(quota);
      ctx.out(`route ${domain} -> ${maskRouteUrl(url)} (position ${position}${q ? `; ${q}` : ""})`);
      return 0;
    },
  },
  {
    name: "route list",
    summary: "routes in failover order, credentials masked",
    options: JSON_OPTION,
    async run(ctx) {
      printRows(ctx, await withDb(ctx.config, (db) => listRoutes(db)), "no routes (everything goes by SMARTHOST_UPSTREAM)");
      return 0;
    },
  },
  {
    name: "route update",
    args: "DOMAIN|* URL",
    summary: "change a route's quota (none removes a limit); the route given by its URL as added or as listed",
    options: quotaOptions("|none"),
    async run({ config, args, values, out }) {
      const quota = quotaFrom(values, true);
      const r = await withDb(config, async (db) => {
        const row = await findRoute(db, args[0]!, args[1]!);
        await setRouteQuota(db, row.id, quota);
        return row;
      });
      out(`route ${r.domain} -> ${maskRouteUrl(r.url)}: ${quotaText(quota) || "limits removed"}`);
      return 0;
    },
  },
  {
    name: "route remove",
    args: "DOMAIN|* URL",
    summary: "remove a route, given by its URL as added or as route list shows it",
    async run({ config, args, out }) {
      const r = await withDb(config, (db) => removeRoute(db, args[0]!, args[1]!));
      out(`route ${r.domain} -> ${r.url} removed`);
      if (r.queued > 0) out(`${r.queued} queued recipient(s) it served now go by ${r.now_via}`);
      return 0;
    },
  },
];
