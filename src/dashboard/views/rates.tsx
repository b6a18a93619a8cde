/** @jsxImportSource hono/jsx */
/** Delivery and bounce rates in percent: by destination domain, and the bounces by type. */
import { percent, type Rates } from "../rates-data.ts";

export function RatesBody({ r, window }: { r: Rates; window: string }) {
  const t = r.total;
  return (
    <section class="rates">
      <h2>Delivery by destination domain ({window})</h2>
      <table class="rates-domains">
        <thead><tr><th>domain</th><th class="num">recipients</th><th class="num">delivered</th><th class="num">bounced</th><th class="num">pending</th></tr></thead>
        <tbody>
          {r.domains.length === 0 ? <tr><td colspan={5} class="muted">no mail</td></tr> : null}
          {r.domains.map((d) => (
            <tr data-domain={d.domain}>
              <td>{d.domain}</td><td class="num">{d.recipients}</td>
              <td class="num">{percent(d.delivered, d.recipients)}</td><td class="num">{percent(d.bounced, d.recipients)}</td><td class="num">{percent(d.pending, d.recipients)}</td>
            </tr>
          ))}
          {r.domains.length > 0 ? (
            <tr class="total" data-domain="">
              <td>all domains</td><td class="num">{t.recipients}</td>
              <td class="num">{percent(t.delivered, t.recipients)}</td><td class="num">{percent(t.bounced, t.recipients)}</td><td class="num">{percent(t.pending, t.recipients)}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <h2>Bounces by type ({window})</h2>
      <table class="rates-bounces">
        <thead><tr><th>type</th><th class="num">recipients</th><th class="num">of bounces</th><th class="num">of all mail</th></tr></thead>
        <tbody>
          {r.bounces.length === 0 ? <tr><td colspan={4} class="muted">no bounces</td></tr> : null}
          {r.bounces.map((b) => (
            <tr data-bounce-type={b.type}>
              <td><code>{b.type}</code> {b.label}</td><td class="num">{b.recipients}</td>
              <td class="num">{percent(b.recipients, t.bounced)}</td><td class="num">{percent(b.recipients, t.recipients)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
