/** @jsxImportSource hono/jsx */
/**
 * How a setup page works, once for all of them: GET shows the create form and the list;
 * the form's POST is checked with valibot, calls the src/admin function the CLI and the
 * admin API call, and answers with the form again — the error inline (the Failure's text,
 * the entered values kept, secrets not), or what was made, a new secret shown once. A
 * remove is a POST answered with a redirect back (303: a reload never posts twice).
 * Every POST carries the session's CSRF token (checked in auth.tsx).
 */
import type { Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import * as v from "valibot";
import { listAccounts } from "../admin/account-manage.ts";
import type { Db } from "../db/client.ts";
import { Failure } from "../core/failure.ts";
import { toHttpError } from "../gateway/errors.ts";
import type { DashboardEnv } from "./auth.tsx";
import { BASE, Flash, Page } from "./views/layout.tsx";
import { EditForm, SetupBody, SetupForm, SetupNav, SecretOnce, type Field, type FormValues } from "./views/setup-form.tsx";

type C = Context<DashboardEnv>;

export interface Made {
  done: string;
  secret?: { label: string; value: string };
  /** More to show about it (the DKIM records and what DNS says of them). */
  more?: Child;
}

export interface SetupPage<S extends v.GenericSchema> {
  slug: string;
  title: string;
  legend: string;
  submit: string;
  fields: () => Promise<Field[]>;
  schema: S;
  create: (input: v.InferOutput<S>) => Promise<Made>;
  list: (csrf: string) => Promise<Child>;
  /** Shown on GET above the list, from the query (the DNS check of a DKIM domain). */
  above?: (c: C) => Promise<Child>;
  /** What a row's other buttons do (`rotate`): POST /setup/<slug>/<verb>, answered as a create is. */
  actions?: RowAction[];
}

/** A row's button that makes something new for the object, a secret shown once (rowAction). */
export interface RowAction {
  verb: string;
  handle: (values: FormValues) => Promise<Made>;
}

export const rowAction = <S extends v.GenericSchema>(verb: string, schema: S, run: (input: v.InferOutput<S>) => Promise<Made>): RowAction => ({
  verb,
  handle: (values) => run(checked(schema, values)),
});

/**
 * An edit page for one object: GET `/setup/<slug>/edit?<key>=…` shows its form filled with
 * what is stored; the POST (the keys in hidden fields) checks it as the create form does,
 * updates, and goes back to the list with what changed (303). A refusal keeps the entered
 * values and says why next to the form.
 */
export interface Editing<S extends v.GenericSchema, K extends string> {
  slug: string;
  /** The fields that name the object (query parameters on GET, hidden fields on POST). */
  keys: readonly K[];
  legend: (key: Record<K, string>) => string;
  fields: () => Field[];
  /** What is stored now, as form values; a Failure (not-found) when there is no such object. */
  load: (key: Record<K, string>) => Promise<FormValues>;
  schema: S;
  update: (key: Record<K, string>, input: v.InferOutput<S>) => Promise<string>;
}

/** The link to an object's edit page, named by its keys' values. */
export const editLink = (slug: string, key: Record<string, string>) => ({ href: `${BASE}/setup/${slug}/edit?${new URLSearchParams(key)}`, what: Object.values(key).join(" ") });

export interface Removal<S extends v.GenericSchema> {
  slug: string;
  schema: S;
  remove: (input: v.InferOutput<S>) => Promise<string>;
}

// Form fields arrive as strings: the schemas below read them so.
export const required = (label: string) => v.pipe(v.string(`${label} is required`), v.trim(), v.minLength(1, `${label} is required`));
export const optionalText = () => v.pipe(v.optional(v.string(), ""), v.trim(), v.transform((s) => (s === "" ? undefined : s)));
/** A limit: empty for none, else a whole number of at least 1. */
export const limit = (label: string) =>
  v.pipe(
    v.optional(v.string(), ""),
    v.trim(),
    v.transform((s) => (s === "" ? null : Number(s))),
    v.nullable(v.pipe(v.number(), v.safeInteger(`${label} must be a whole number`), v.minValue(1, `${label} must be at least 1`))),
  );
/** A stored limit as a form field holds it: empty for none. */
export const limitValue = (n: number | null) => (n === null ? "" : `${n}`);
export const checkbox = () => v.pipe(v.optional(v.string(), ""), v.transform((s) => s !== ""));

/** The account picker every per-account form starts with. */
export async function accountField(db: Db): Promise<Field> {
  const names = (await listAccounts(db)).map((a) => a.name);
  return { name: "account", label: "Account", kind: "select", options: names.map((n) => [n, n] as const), hint: names.length === 0 ? "No accounts yet: create one first." : undefined };
}

/** The form's fields: one value a name, several for checkboxes; the CSRF token left out. */
async function formValues(c: C): Promise<FormValues> {
  const body = await c.req.parseBody({ all: true });
  const out: FormValues = {};
  for (const [k, val] of Object.entries(body)) {
    if (k === "_csrf") continue;
    if (Array.isArray(val)) out[k] = val.filter((x): x is string => typeof x === "string");
    else if (typeof val === "string") out[k] = val;
  }
  return out;
}

function checked<S extends v.GenericSchema>(schema: S, values: FormValues): v.InferOutput<S> {
  const r = v.safeParse(schema, values);
  if (!r.success) throw new Failure("invalid", r.issues[0]?.message ?? "invalid form");
  return r.output;
}

const back = (c: C, to: string, done: string) => c.redirect(`${to}?done=${encodeURIComponent(done)}`, 303);

export function setupPage<S extends v.GenericSchema>(app: Hono<DashboardEnv>, page: SetupPage<S>, hostname: string): void {
  const path = `/setup/${page.slug}`;
  const draw = async (c: C, o: { values?: FormValues; error?: string; made?: Made; above?: Child }) => {
    const csrf = c.get("session").csrf;
    const form = <SetupForm slug={page.slug} legend={page.legend} fields={await page.fields()} values={o.error ? (o.values ?? {}) : {}} error={o.error} csrf={csrf} submit={page.submit} />;
    const made = o.made && (
      <>
        {o.made.secret ? <SecretOnce label={o.made.secret.label} value={o.made.secret.value} /> : null}
        {o.made.more}
      </>
    );
    return <SetupBody form={form} done={o.made?.done} made={made} above={o.above} list={await page.list(csrf)} />;
  };
  const whole = (c: C, body: Child) => (
    <Page title={`Set up: ${page.title}`} path="/setup" csrf={c.get("session").csrf} hostname={hostname}>
      <SetupNav slug={page.slug} />
      <Flash text={c.req.query("done")} />
      {body}
    </Page>
  );

  app.get(path, async (c) => c.html(whole(c, await draw(c, { above: await page.above?.(c) }))));
  app.post(path, async (c) => {
    const values = await formValues(c);
    let status = 200;
    let body: Child;
    try {
      body = await draw(c, { made: await page.create(checked(page.schema, values)) });
    } catch (err) {
      // Storage trouble goes to the app's handler; the rest (including a missing SMARTHOST_SECRET_KEY) is said here.
      if (!(err instanceof Failure) || err.kind === "internal") throw err;
      status = toHttpError(err).status;
      body = await draw(c, { values, error: err.message });
    }
    // A new secret must not stay in a cache (the pages are no-store already: routes.ts).
    const html = c.req.header("hx-request") ? <>{body}</> : whole(c, body);
    return c.html(html, status as 200);
  });
  for (const a of page.actions ?? []) {
    app.post(`${path}/${a.verb}`, async (c) => {
      let status = 200;
      let made: Made;
      try {
        made = await a.handle(await formValues(c));
      } catch (err) {
        if (!(err instanceof Failure) || err.kind === "internal") throw err;
        status = toHttpError(err).status;
        made = { done: err.message };
      }
      const body = await draw(c, { made });
      return c.html(c.req.header("hx-request") ? <>{body}</> : whole(c, body), status as 200);
    });
  }
}

export function removal<S extends v.GenericSchema>(app: Hono<DashboardEnv>, r: Removal<S>): void {
  app.post(`/setup/${r.slug}/remove`, async (c) => {
    const to = `${BASE}/setup/${r.slug}`;
    try {
      return back(c, to, await r.remove(checked(r.schema, await formValues(c))));
    } catch (err) {
      if (err instanceof Failure && err.kind !== "internal") return back(c, to, err.message);
      throw err;
    }
  });
}

export function editing<S extends v.GenericSchema, K extends string>(app: Hono<DashboardEnv>, e: Editing<S, K>, title: string, hostname: string): void {
  const path = `/setup/${e.slug}/edit`;
  const list = `${BASE}/setup/${e.slug}`;
  const page = (c: C, key: Record<K, string>, values: FormValues, error?: string) => {
    const csrf = c.get("session").csrf;
    return (
      <Page title={`Set up: ${title}`} path="/setup" csrf={csrf} hostname={hostname}>
        <SetupNav slug={e.slug} />
        <div id="setup">
          <EditForm slug={e.slug} keys={key} legend={e.legend(key)} fields={e.fields()} values={values} error={error} csrf={csrf} />
          <p>
            <a href={list}>Back to the list</a>
          </p>
        </div>
      </Page>
    );
  };
  const refused = (err: unknown): err is Failure => err instanceof Failure && err.kind !== "internal";
  const keyOf = (get: (k: K) => unknown) => Object.fromEntries(e.keys.map((k) => [k, typeof get(k) === "string" ? (get(k) as string) : ""])) as Record<K, string>;
  app.get(path, async (c) => {
    const key = keyOf((k) => c.req.query(k));
    try {
      return c.html(page(c, key, await e.load(key)));
    } catch (err) {
      if (!refused(err)) throw err;
      return back(c, list, err.message);
    }
  });
  app.post(path, async (c) => {
    const values = await formValues(c);
    const key = keyOf((k) => values[k]);
    try {
      return back(c, list, await e.update(key, checked(e.schema, values)));
    } catch (err) {
      if (!refused(err)) throw err;
      return c.html(page(c, key, values, err.message), toHttpError(err).status as 400);
    }
  });
}
