// The web inbox: a list of caught messages and one page per message. Everything from a message
// is escaped; its HTML part is shown only in a sandboxed frame with its own strict CSP.
import type { CaughtMessage } from './store.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const URL_IN_TEXT = /https?:\/\/[^\s<>"']+/g;

/** The text part with its http(s) links made clickable (each piece escaped on its own). */
export function linkify(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const url = match[0].replace(/[.,;:)\]]+$/, '');
    out += escapeHtml(text.slice(last, match.index));
    out += `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
    last = match.index! + url.length;
  }
  return out + escapeHtml(text.slice(last));
}

const STYLE = `
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #1a1a1a; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
  a { color: #0645ad; }
  pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: .75rem; }
  iframe { width: 100%; height: 28rem; border: 1px solid #ccc; }
  form { display: inline; }
  .muted { color: #555; }`;

/** The inbox pages run no script and load nothing from elsewhere. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'; base-uri 'none'";
/** A message's own HTML: no script, no network, no navigation of the inbox. */
export const MESSAGE_HTML_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function page(title: string, body: string) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export function inboxPage(messages: CaughtMessage[], to: string | null, total: number): string {
  const rows = messages
    .map(
      (m) => `<tr><td>${escapeHtml(m.date.replace('T', ' ').slice(0, 19))}</td><td>${escapeHtml(m.to.join(', '))}</td>
<td><a href="/messages/${m.id}">${escapeHtml(m.subject || '(no subject)')}</a></td><td>${escapeHtml(m.from)}</td></tr>`,
    )
    .join('\n');
  const filter = to ? ` for ${escapeHtml(to)} (<a href="/">all</a>)` : '';
  return page(
    'Local inbox',
    `<h1>Local inbox</h1>
<p class="muted">Every email the local stack sends (SMTP) lands here; nothing leaves this machine. ${messages.length} of ${total} message(s)${filter}.
<form method="post" action="/clear"><button type="submit">Delete all</button></form></p>
<form method="get" action="/"><label>Recipient <input name="to" type="email" value="${escapeHtml(to ?? '')}"></label> <button type="submit">Filter</button></form>
<table><thead><tr><th>Received (UTC)</th><th>To</th><th>Subject</th><th>From</th></tr></thead><tbody>
${rows || '<tr><td colspan="4">No messages yet.</td></tr>'}
</tbody></table>`,
  );
}

export function messagePage(m: CaughtMessage): string {
  const html = m.html ? `<h2>HTML</h2><iframe title="HTML part" sandbox src="/messages/${m.id}/html"></iframe>` : '';
  return page(
    m.subject || 'Message',
    `<p><a href="/">← Inbox</a></p>
<h1>${escapeHtml(m.subject || '(no subject)')}</h1>
<table><tbody>
<tr><th>From</th><td>${escapeHtml(m.from)}</td></tr>
<tr><th>To</th><td>${escapeHtml(m.to.join(', '))}</td></tr>
<tr><th>Received</th><td>${escapeHtml(m.date)}</td></tr>
</tbody></table>
<h2>Text</h2><pre id="text">${linkify(m.text) || '<span class="muted">(no text part)</span>'}</pre>
${html}
<p><a href="/api/messages/${m.id}">JSON</a> · <a href="/api/messages/${m.id}/raw">raw source</a></p>`,
  );
}
