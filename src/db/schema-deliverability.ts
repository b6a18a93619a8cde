/** Tables of deliverability: DKIM signing keys and cached MTA-STS policies of recipient domains. */
import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * DKIM signing keys, several selectors per signing domain. `pending` keys wait for their
 * DNS record (or an explicit activation); `retired` ones no longer sign but stay listed so
 * their DNS record is kept while mail signed with them is still in flight.
 */
export const dkimKeys = sqliteTable(
  "dkim_keys",
  {
    id: text("id").primaryKey(),
    /** Signing domain (d=), lower-case A-labels. */
    domain: text("domain").notNull(),
    selector: text("selector").notNull(),
    algorithm: text("algorithm", { enum: ["rsa", "ed25519"] }).notNull(),
    /** PKCS#8 PEM sealed with SMARTHOST_SECRET_KEY (purpose "dkim:DOMAIN:SELECTOR"). */
    privateKey: text("private_key").notNull(),
    /** The p= value published in DNS (base64). */
    publicKey: text("public_key").notNull(),
    state: text("state", { enum: ["pending", "active", "retired"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    activatedAt: integer("activated_at"),
    retiredAt: integer("retired_at"),
  },
  (t) => [uniqueIndex("dkim_keys_domain_selector").on(t.domain, t.selector)],
);

/**
 * MTA-STS policies of recipient domains (RFC 8461 §5.1), cached until max_age so they
 * outlive restarts and a policy host that is down, shared by every delivery node.
 */
export const mtaStsPolicies = sqliteTable("mta_sts_policies", {
  domain: text("domain").primaryKey(),
  /** The id= of the `_mta-sts` TXT record the policy was fetched for. */
  policyId: text("policy_id").notNull(),
  mode: text("mode", { enum: ["enforce", "testing", "none"] }).notNull(),
  /** JSON array of the policy's mx patterns. */
  mx: text("mx").notNull(),
  fetchedAt: integer("fetched_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});
