/** `GET /v1/domains/{domain}`: the domain check, for a domain the calling account may send for. */
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { senderRules } from "../../db/schema.ts";
import { isDomain } from "../../smtp/address.ts";
import { checkDomain, type DomainCheckDeps } from "../../domain-check/check.ts";
import { Failure } from "../../core/failure.ts";
import type { Authenticator } from "../authenticate.ts";
import type { Storage } from "../../db/storage.ts";

export function domainRoutes(auth: Authenticator, storage: Storage, deps: DomainCheckDeps): Hono {
  const app = new Hono();
  app.get("/:domain", async (c) => {
    const accountId = await auth.authenticateApiKey(c.req.header("authorization"));
    const domain = c.req.param("domain").toLowerCase().replace(/\.$/, "");
    if (!isDomain(domain, false) || !domain.includes(".")) throw new Failure("invalid", "Not a domain name", { code: "invalid_domain", field: "domain" });
    // Sender rules are "user@d", "*@d" or "d": the account sends for d.
    const rules = await storage.db.select({ p: senderRules.pattern }).from(senderRules).where(eq(senderRules.accountId, accountId));
    if (!rules.some((r) => r.p.slice(r.p.lastIndexOf("@") + 1) === domain)) {
      throw new Failure("sender-denied", `This account may not send for ${domain}`, { code: "domain_not_allowed" });
    }
    return c.json(await checkDomain(deps, domain));
  });
  return app;
}
