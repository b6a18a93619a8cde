/**
 * Hand-written SQL for the hot paths (accepting, leasing, recording outcomes): constant
 * statements run directly on a libSQL connection, without a query builder in the way.
 * libSQL's Client and Transaction satisfy these, and so does the embedded fast path.
 */
import type { InStatement, InValue } from "@libsql/client";

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
  /**
   * Statements run as one write transaction in ONE request (a Hrana pipeline on a remote
   * libSQL server): the remote client has it, the embedded fast path does not need it.
   */
  batch?(stmts: InStatement[], mode: "write"): Promise<SqlResult[]>;
}

/**
 * A write whose decisions are made in SQL: its statements need no answer before the next
 * one is sent, so they travel in one request (and many plans in one request, group commit
 * over the network). `decode` reads the statements' results; what it throws fails this
 * plan alone (a plan that may be refused writes nothing when refused: see queue/enqueue.ts).
 */
export interface Plan<T> {
  statements: InStatement[];
  decode(results: readonly SqlResult[]): T;
}

/** A plan's statements one after another on a connection (inside a transaction of the caller's). */
export async function runPlan<T>(sql: Sql, plan: Plan<T>): Promise<T> {
  const results: SqlResult[] = [];
  for (const stmt of plan.statements) results.push(await sql.execute(stmt));
  return plan.decode(results);
}

/** An SQL condition with its parameters, for the statements of a plan that run only where it holds. */
export interface SqlCondition {
  sql: string;
  args: InValue[];
}

/** `?, ?, …` for n parameters. */
export const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");
