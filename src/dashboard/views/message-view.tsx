/** @jsxImportSource hono/jsx */
/**
 * A message's content below its trace: the header fields, the attachments, the download of
 * the raw source, and the preview — a sandboxed frame (no scripts, no same origin) showing
 * a page of its own whose CSP forbids every remote load (pages.tsx, PREVIEW_CSP).
 */
import type { MessageContent } from "../message-source.ts";
import { BASE } from "./layout.tsx";

export type PreviewPart = "html" | "text";

export function MessageContentView({ id, c, part }: { id: string; c: MessageContent; part: PreviewPart | null }) {
  const url = `${BASE}/messages/${encodeURIComponent(id)}`;
  return (
    <section class="content">
      <h2>Content</h2>
      <p>
        <a href={`${url}/raw`} download={`${id}.eml`} class="download">Download the source (.eml)</a>
      </p>
      {part ? (
        <>
          <p class="parts">
            Preview:{" "}
            {c.html !== null ? <a href={`${url}/preview?part=html`} target="preview">HTML</a> : null}
            {c.html !== null && c.text !== null ? " · " : null}
            {c.text !== null ? <a href={`${url}/preview?part=text`} target="preview">text</a> : null}
            <span class="muted"> (remote images and scripts are not loaded)</span>
          </p>
          <iframe class="preview" name="preview" title="Message preview" sandbox="" referrerpolicy="no-referrer" src={`${url}/preview?part=${part}`}></iframe>
        </>
      ) : (
        <p class="muted">No text or HTML body.</p>
      )}
      {c.attachments.length > 0 ? (
        <>
          <h2>Attachments</h2>
          <ul class="attachments">
            {c.attachments.map((a) => (
              <li>{a.filename ?? "(no name)"} <span class="muted">{a.type}, {a.size} octets</span></li>
            ))}
          </ul>
        </>
      ) : null}
      <h2>Headers</h2>
      <table class="headers">
        <tbody>
          {c.headers.map((h) => (
            <tr><th>{h.name}</th><td><code>{h.value}</code></td></tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The text part as a page of its own for the preview frame (escaped by hono/jsx). */
export function TextPreview({ text }: { text: string }) {
  return (
    <html>
      <head><meta charset="utf-8" /></head>
      <body style="margin:8px">
        <pre style="white-space:pre-wrap;word-break:break-word;font:13px/1.45 ui-monospace,monospace;margin:0">{text}</pre>
      </body>
    </html>
  );
}
