/**
 * Hand-written SQL for the hot paths (accepting, leasing, recording outcomes): constant
 * statements run directly on a libSQL connection, without a query builder in the way.
 * libSQL's Client and Transaction satisfy these, and so does the embedded fast path.
 */
import type { InStatement } from "@libsql/client";

export interface SqlResult {
  readonly rows: readonly Record<string, unknown>[];
}

export interface Sql {
  execute(stmt: InStatement): Promise<SqlResult>;
}

export interface SqlTransaction extends Sql {
  commit(): Promise<void>;
  /** Rolls back when not committed. */
  close(): void;
}

export interface TransactionOptions {
  /**
   * false: COMMIT need not wait for the disk (src/db/group-commit.ts says when that is
   * allowed). Where the store cannot tell the difference, every commit is durable.
   */
  durable?: boolean;
}

export interface SqlDatabase extends Sql {
  transaction(mode: "write", options?: TransactionOptions): Promise<SqlTransaction>;
}

/** `?, ?, …` for n parameters. */
export const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");
