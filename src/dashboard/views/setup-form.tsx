/** @jsxImportSource hono/jsx */
/**
 * The parts of every setup page: the section links, a create form drawn from its fields
 * (each input with its label; an error said next to the form and tied to it for screen
 * readers), and the panel that shows a new secret once.
 */
import type { Child } from "hono/jsx";
import { BASE } from "./layout.tsx";

export type Field =
  | { name: string; label: string; kind: "text" | "number" | "password"; required?: boolean; hint?: string; placeholder?: string; /** Never echoed back into the form. */ secret?: boolean }
  | { name: string; label: string; kind: "select"; options: readonly (readonly [string, string])[]; hint?: string }
  | { name: string; label: string; kind: "checks"; options: readonly string[]; hint?: string };

export type FormValues = Record<string, string | string[]>;

export const SETUP_SECTIONS: readonly (readonly [string, string])[] = [
  ["accounts", "Accounts"],
  ["credentials", "SMTP credentials"],
  ["keys", "API keys"],
  ["senders", "Sender rules"],
  ["networks", "Networks"],
  ["routes", "Routes"],
  ["dkim", "DKIM keys"],
  ["suppressions", "Suppressions"],
  ["webhooks", "Webhooks"],
];

export function SetupNav({ slug }: { slug: string }) {
  return (
    <nav class="setup-nav" aria-label="What to set up">
      {SETUP_SECTIONS.map(([s, label]) => (
        <a href={`${BASE}/setup/${s}`} aria-current={s === slug ? "page" : undefined} class={s === slug ? "active" : ""}>
          {label}
        </a>
      ))}
    </nav>
  );
}

const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? "") : (v ?? ""));

function Input({ f, value, id }: { f: Field; value: string | string[] | undefined; id: string }) {
  if (f.kind === "select") {
    return (
      <select id={id} name={f.name}>
        {f.options.map(([val, label]) => (
          <option value={val} selected={one(value) === val}>
            {label}
          </option>
        ))}
      </select>
    );
  }
  if (f.kind === "checks") {
    const on = new Set(Array.isArray(value) ? value : value ? [value] : []);
    return (
      <span class="checks" id={id}>
        {f.options.map((o) => (
          <label class="check">
            <input type="checkbox" name={f.name} value={o} checked={on.has(o)} /> {o}
          </label>
        ))}
      </span>
    );
  }
  return (
    <input
      id={id}
      name={f.name}
      type={f.kind}
      required={f.required}
      placeholder={f.placeholder}
      value={f.secret ? "" : one(value)}
      autocomplete={f.secret ? "new-password" : "off"}
      inputmode={f.kind === "number" ? "numeric" : undefined}
      min={f.kind === "number" ? "1" : undefined}
    />
  );
}

/**
 * The create form. With htmx it posts in the background and the answer replaces #setup
 * (so a secret in it lives only in this page: a reload shows it no more); without script
 * it is an ordinary POST.
 */
export function SetupForm(p: { slug: string; legend: string; fields: Field[]; values: FormValues; error?: string; csrf: string; submit: string }) {
  const action = `${BASE}/setup/${p.slug}`;
  return (
    <form method="post" action={action} class="setup-form" hx-post={action} hx-target="#setup" hx-swap="outerHTML" aria-describedby={p.error ? "setup-error" : undefined}>
      <input type="hidden" name="_csrf" value={p.csrf} />
      <Fields slug={p.slug} legend={p.legend} fields={p.fields} values={p.values} submit={p.submit} />
      <FormError error={p.error} />
    </form>
  );
}

/** An edit form: an ordinary POST (answered with a redirect to the list), the object named by a hidden field. */
export function EditForm(p: { slug: string; keys: Record<string, string>; legend: string; fields: Field[]; values: FormValues; error?: string; csrf: string }) {
  return (
    <form method="post" action={`${BASE}/setup/${p.slug}/edit`} class="setup-form edit" aria-describedby={p.error ? "setup-error" : undefined}>
      <input type="hidden" name="_csrf" value={p.csrf} />
      {Object.entries(p.keys).map(([k, val]) => (
        <input type="hidden" name={k} value={val} />
      ))}
      <Fields slug={p.slug} legend={p.legend} fields={p.fields} values={p.values} submit="Save changes" />
      <FormError error={p.error} />
    </form>
  );
}

function Fields(p: { slug: string; legend: string; fields: Field[]; values: FormValues; submit: string }) {
  return (
    <fieldset>
      <legend>{p.legend}</legend>
      {p.fields.map((f) => {
        const id = `f-${p.slug}-${f.name}`;
        return f.kind === "checks" ? (
          <fieldset class="field">
            <legend>{f.label}</legend>
            <Input f={f} value={p.values[f.name]} id={id} />
            {f.hint ? <small class="muted">{f.hint}</small> : null}
          </fieldset>
        ) : (
          <div class="field">
            <label for={id}>{f.label}</label>
            <Input f={f} value={p.values[f.name]} id={id} />
            {f.hint ? <small class="muted">{f.hint}</small> : null}
          </div>
        );
      })}
      <button type="submit">{p.submit}</button>
    </fieldset>
  );
}

function FormError({ error }: { error?: string }) {
  return error ? (
    <p class="error" id="setup-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A secret right after it was made: on this answer only, never stored readable, never listed. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  return (
    <div class="secret" role="status">
      <p>
        <strong>{label}</strong> — shown this once: copy it now. It is not shown again, in a list or anywhere else.
      </p>
      <code class="secret-value">{value}</code>
    </div>
  );
}

/** The region a create answer replaces: form, what was just made, and the list. */
export function SetupBody(p: { form: Child; done?: string; made?: Child; list: Child; above?: Child }) {
  return (
    <div id="setup">
      {p.form}
      {p.done ? (
        <p class="flash" role="status">
          {p.done}
        </p>
      ) : null}
      {p.made}
      {p.above}
      <div class="scroll">{p.list}</div>
    </div>
  );
}

export interface SetupRow {
  cells: Child[];
  /** The fields that name it for `POST /setup/<slug>/remove`; absent: nothing to remove. */
  remove?: Record<string, string>;
  /** What the remove button says ("remove", "revoke"). */
  verb?: string;
  /** Its edit page (setup-kit.ts `editing`) and what the link names for a screen reader; absent: not editable here. */
  edit?: { href: string; what: string };
  /** More buttons (setup-kit.ts `rowAction`): each posts `fields` to /setup/<slug>/<verb>, asked first. */
  actions?: { verb: string; fields: Record<string, string> }[];
}

/** A list with, on each row, its edit link and a remove button (confirmed in the browser, dashboard.js). */
export function SetupTable(p: { slug: string; csrf: string; head: string[]; rows: SetupRow[]; empty: string; extra?: Child }) {
  if (p.rows.length === 0) return <p class="muted">{p.empty}</p>;
  return (
    <table class={`setup-list ${p.slug}`}>
      <thead>
        <tr>
          {p.head.map((h) => (
            <th>{h}</th>
          ))}
          <th>
            <span class="visually-hidden">actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((r) => (
          <tr>
            {r.cells.map((cell) => (
              <td>{cell}</td>
            ))}
            <td>
              {r.edit ? (
                <a href={r.edit.href} class="edit" aria-label={`edit ${r.edit.what}`}>
                  edit
                </a>
              ) : null}{" "}
              {(r.actions ?? []).map((a) => {
                const action = `${BASE}/setup/${p.slug}/${a.verb}`;
                return (
                  <form method="post" action={action} class="inline" hx-post={action} hx-target="#setup" hx-swap="outerHTML">
                    <input type="hidden" name="_csrf" value={p.csrf} />
                    {Object.entries(a.fields).map(([k, val]) => (
                      <input type="hidden" name={k} value={val} />
                    ))}
                    <button type="submit" data-confirm={`${a.verb} ${Object.values(a.fields).join(" ")}?`}>
                      {a.verb}
                    </button>
                  </form>
                );
              })}{" "}
              {r.remove ? (
                <form method="post" action={`${BASE}/setup/${p.slug}/remove`} class="inline">
                  <input type="hidden" name="_csrf" value={p.csrf} />
                  {Object.entries(r.remove).map(([k, val]) => (
                    <input type="hidden" name={k} value={val} />
                  ))}
                  {p.extra}
                  <button type="submit" class="danger" data-confirm={`${r.verb ?? "remove"} ${Object.values(r.remove).join(" ")}?`}>
                    {r.verb ?? "remove"}
                  </button>
                </form>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
