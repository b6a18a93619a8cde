/**
 * The /docs page: renders /openapi.json in the browser with a few lines of script, all
 * served from this host (no CDN, nothing fetched from elsewhere; the document's own texts
 * are inserted as text, never as HTML).
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smarthost API reference</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 2rem; color: #222; }
h1 { margin-bottom: 0; } .tag { margin-top: 2rem; text-transform: capitalize; border-bottom: 1px solid #ddd; }
details { border: 1px solid #ddd; border-radius: 4px; margin: .4rem 0; padding: .3rem .6rem; }
summary { cursor: pointer; } .m { display: inline-block; width: 4.5rem; font-weight: bold; font-family: monospace; }
.get { color: #06c; } .post { color: #080; } .patch { color: #a60; } .delete { color: #c00; }
code, pre { font-family: ui-monospace, monospace; font-size: 13px; } pre { background: #f6f6f6; padding: .5rem; overflow: auto; }
</style>
</head>
<body>
<h1>smarthost API reference</h1>
<p id="about"></p>
<p>The machine-readable document: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p>
<main id="ops">Loading…</main>
<script>
const el = (tag, attrs, ...kids) => { const e = document.createElement(tag); Object.assign(e, attrs); for (const k of kids) e.append(k); return e; };
const json = (v) => el("pre", {}, JSON.stringify(v, null, 2));
fetch("openapi.json").then((r) => r.json()).then((doc) => {
  document.getElementById("about").textContent = doc.info.description || "";
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([path, method, op]);
    }
  }
  const ops = document.getElementById("ops");
  ops.textContent = "";
  for (const [tag, list] of byTag) {
    ops.append(el("h2", { className: "tag", textContent: tag }));
    for (const [path, method, op] of list) {
      const d = el("details", {}, el("summary", {}, el("span", { className: "m " + method, textContent: method.toUpperCase() }), el("code", { textContent: path }), " — " + (op.summary || "")));
      if (op.security) d.append(el("p", { textContent: "Authorization: Bearer " + (op.security[0].adminToken ? "SMARTHOST_ADMIN_TOKEN" : "API key") }));
      for (const p of op.parameters || []) d.append(el("p", {}, el("code", { textContent: p.in + " " + p.name }), " " + (p.description || "") + (p.example !== undefined ? " (e.g. " + p.example + ")" : "")));
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) d.append(el("h4", { textContent: "Request body" }), ...(body.example !== undefined ? [el("p", { textContent: "Example" }), json(body.example)] : []), el("p", { textContent: "Schema" }), json(body.schema));
      d.append(el("h4", { textContent: "Responses" }));
      for (const [status, res] of Object.entries(op.responses || {})) d.append(el("p", {}, el("code", { textContent: status }), " " + (res.description || (res.$ref ? res.$ref.split("/").pop() : ""))));
      ops.append(d);
    }
  }
}).catch((e) => { document.getElementById("ops").textContent = "Could not load openapi.json: " + e; });
</script>
</body>
</html>
`;
