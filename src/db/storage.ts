/**
 * What a route, a page or a service is handed to read and write: the drizzle handle, the
 * connection for hand-written hot-path statements, and the process's one writer (group
 * commit). Injected where needed; nothing hands out its own handles.
 */
import type { Db } from "./client.ts";
import type { GroupCommit } from "./group-commit.ts";
import type { SqlDatabase } from "./raw.ts";

export interface Storage {
  db: Db;
  sql: SqlDatabase;
  writer: GroupCommit;
}
