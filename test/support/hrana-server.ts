/**
 * A small libSQL server for tests: the Hrana v2 protocol over HTTP (what @libsql/client's
 * http/web client speaks), backed by a libSQL file through the `libsql` driver. No sqld
 * can be installed here (not on npm or Debian), so the edge tests reach their database
 * through this: real libSQL underneath, a test double of the network protocol only.
 */
import Database from "libsql";

type Value = { type: "null" } | { type: "integer"; value: string } | { type: "float"; value: number } | { type: "text"; value: string } | { type: "blob"; base64: string };
interface Stmt {
  sql?: string;
  sql_id?: number;
  args?: Value[];
  named_args?: { name: string; value: Value }[];
  want_rows?: boolean;
}
type Cond = { type: "ok" | "error"; step: number } | { type: "not"; cond: Cond } | { type: "and" | "or"; conds: Cond[] } | { type: "is_autocommit" };
type Req =
  | { type: "close" }
  | { type: "execute"; stmt: Stmt }
  | { type: "batch"; batch: { steps: { condition?: Cond | null; stmt: Stmt }[] } }
  | { type: "sequence"; sql?: string; sql_id?: number }
  | { type: "store_sql"; sql_id: number; sql: string }
  | { type: "close_sql"; sql_id: number }
  | { type: "get_autocommit" };

interface Stream {
  db: InstanceType<typeof Database>;
  sqls: Map<number, string>;
}

const fromValue = (v: Value): unknown =>
  v.type === "null" ? null : v.type === "integer" ? BigInt(v.value) : v.type === "float" ? v.value : v.type === "text" ? v.value : Buffer.from(v.base64, "base64");

function toValue(x: unknown): Value {
  if (x === null || x === undefined) return { type: "null" };
  if (typeof x === "bigint") return { type: "integer", value: x.toString() };
  if (typeof x === "number") return { type: "float", value: x };
  if (typeof x === "string") return { type: "text", value: x };
  return { type: "blob", base64: Buffer.from(x as Uint8Array).toString("base64") };
}

function execute(s: Stream, stmt: Stmt) {
  const sql = stmt.sql ?? s.sqls.get(stmt.sql_id!);
  if (sql === undefined) throw new Error("unknown sql_id");
  const prepared = s.db.prepare(sql) as unknown as {
    reader: boolean;
    safeIntegers(on: boolean): void;
    raw(on: boolean): void;
    columns(): { name: string; type: string | null }[];
    all(...a: unknown[]): unknown[][];
    run(...a: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  };
  prepared.safeIntegers(true);
  const args: unknown[] = (stmt.args ?? []).map(fromValue);
  const named = Object.fromEntries((stmt.named_args ?? []).map((a) => [a.name.replace(/^[:@$]/, ""), fromValue(a.value)]));
  const params = stmt.named_args?.length ? [named] : args;
  if (prepared.reader) {
    prepared.raw(true);
    const rows = prepared.all(...params);
    return { cols: prepared.columns().map((c) => ({ name: c.name, decltype: c.type })), rows: rows.map((r) => r.map(toValue)), affected_row_count: 0, last_insert_rowid: null };
  }
  const r = prepared.run(...params);
  return { cols: [], rows: [], affected_row_count: r.changes, last_insert_rowid: String(r.lastInsertRowid) };
}

function holds(c: Cond, ok: boolean[], err: boolean[], s: Stream): boolean {
  switch (c.type) {
    case "ok":
      return ok[c.step] === true;
    case "error":
      return err[c.step] === true;
    case "not":
      return !holds(c.cond, ok, err, s);
    case "and":
      return c.conds.every((x) => holds(x, ok, err, s));
    case "or":
      return c.conds.some((x) => holds(x, ok, err, s));
    case "is_autocommit":
      return !s.db.inTransaction;
  }
}

function handle(s: Stream, r: Req): unknown {
  switch (r.type) {
    case "execute":
      return { type: "execute", result: execute(s, r.stmt) };
    case "batch": {
      const ok: boolean[] = [];
      const err: boolean[] = [];
      const step_results: unknown[] = [];
      const step_errors: unknown[] = [];
      r.batch.steps.forEach((step, i) => {
        if (step.condition && !holds(step.condition, ok, err, s)) {
          step_results.push(null);
          step_errors.push(null);
          return;
        }
        try {
          step_results.push(execute(s, step.stmt));
          step_errors.push(null);
          ok[i] = true;
        } catch (e) {
          step_results.push(null);
          step_errors.push({ message: String((e as Error).message) });
          err[i] = true;
        }
      });
      return { type: "batch", result: { step_results, step_errors } };
    }
    case "sequence":
      s.db.exec(r.sql ?? s.sqls.get(r.sql_id!)!);
      return { type: "sequence" };
    case "store_sql":
      s.sqls.set(r.sql_id, r.sql);
      return { type: "store_sql" };
    case "close_sql":
      s.sqls.delete(r.sql_id);
      return { type: "close_sql" };
    case "get_autocommit":
      return { type: "get_autocommit", is_autocommit: !s.db.inTransaction };
    case "close":
      return { type: "close" };
  }
}

export interface HranaServer {
  url: string;
  requests: number;
  stop(): Promise<void>;
}

export function startHranaServer(path: string): HranaServer {
  const streams = new Map<string, Stream>();
  const state = { requests: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === "/v2") return new Response("", { status: 200 });
      if (req.method !== "POST" || url.pathname !== "/v2/pipeline") return new Response("not found", { status: 404 });
      state.requests++;
      const body = (await req.json()) as { baton: string | null; requests: Req[] };
      let stream = body.baton ? streams.get(body.baton) : undefined;
      if (body.baton && !stream) return Response.json({ message: "unknown baton" }, { status: 400 });
      stream ??= { db: new Database(path, { timeout: 15_000 }), sqls: new Map() };
      const results = body.requests.map((r) => {
        try {
          return { type: "ok", response: handle(stream!, r) };
        } catch (e) {
          return { type: "error", error: { message: String((e as Error).message), code: "SQLITE_ERROR" } };
        }
      });
      if (body.baton) streams.delete(body.baton);
      let baton: string | null = null;
      if (body.requests.some((r) => r.type === "close")) stream.db.close();
      else {
        baton = crypto.randomUUID();
        streams.set(baton, stream);
      }
      return Response.json({ baton, base_url: null, results });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    get requests() {
      return state.requests;
    },
    async stop() {
      for (const s of streams.values()) s.db.close();
      await server.stop(true);
    },
  };
}
