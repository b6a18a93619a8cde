/**
 * Hand-written SQL for the hot paths (accepting, leasing, recording outcomes): constant
 * statements run directly on the libSQL client or transaction, without a query builder
 * in the way. Both libSQL's Client and Transaction satisfy this.
 */
import type { InStatement, ResultSet } from "@libsql/client";

export interface Sql {
  execute(stmt: InStatement): Promise<ResultSet>;
}

/** `?, ?, …` for n parameters. */
export const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");
