/**
 * One real libSQL server (sqld) shared by several relay processes, as an operator runs
 * several nodes: started on a free loopback port with its data under the test's folder,
 * migrated once by `smarthost migrate` against its URL. Every node and CLI command of the
 * test gets `env` (SMARTHOST_DB_URL=http://127.0.0.1:PORT).
 */
import { cliOk } from "./relay.ts";
import { startSqld, type Sqld } from "./sqld.ts";

export interface SharedDb {
  sqld: Sqld;
  url: string;
  env: Record<string, string>;
}

export async function startSharedDb(dir: string): Promise<SharedDb> {
  const sqld = await startSqld(dir);
  const env = { SMARTHOST_DB_URL: sqld.url };
  await cliOk(dir, ["migrate"], env);
  return { sqld, url: sqld.url, env };
}
