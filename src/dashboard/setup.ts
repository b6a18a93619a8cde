/**
 * /dashboard/setup/…: create, list and remove what the CLI creates, one page per kind of
 * object (setup-access.tsx: who may send; setup-delivery.tsx: where mail goes and what
 * it carries). /dashboard/setup opens the first.
 */
import type { Hono } from "hono";
import type { Storage } from "../db/storage.ts";
import type { DomainCheckDeps } from "../domain-check/check.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { DashboardEnv } from "./auth.tsx";
import { accessSetupRoutes } from "./setup-access.tsx";
import { deliverySetupRoutes } from "./setup-delivery.tsx";
import { BASE } from "./views/layout.tsx";

export interface SetupDeps {
  storage: Storage;
  hostname: string;
  now: () => number;
  secrets?: SecretBox | Promise<SecretBox>;
  domainCheck?: DomainCheckDeps;
  allowPrivateWebhooks?: boolean;
}

export function setupRoutes(app: Hono<DashboardEnv>, deps: SetupDeps): void {
  app.get("/setup", (c) => c.redirect(`${BASE}/setup/accounts`, 303));
  accessSetupRoutes(app, { db: deps.storage.db, hostname: deps.hostname, now: deps.now });
  deliverySetupRoutes(app, {
    feedback: deps.storage,
    hostname: deps.hostname,
    now: deps.now,
    secrets: deps.secrets,
    domainCheck: deps.domainCheck,
    allowPrivateWebhooks: deps.allowPrivateWebhooks ?? false,
  });
}
