// The notification emails: plain and accessible (one column, real headings and links with
// words, no images, no colour carrying meaning, `lang` set), each rendered as HTML and as text
// with the same content. Everything that comes from data is escaped.
import type { Category } from './unsubscribe-token.ts';

export type NotificationEvent =
  | 'upload_published'
  | 'upload_failed'
  | 'upload_waiting_quota'
  | 'youtube_reauth_required'
  | 'render_ready'
  | 'render_failed'
  | 'invitation'
  | 'alert_digest';

export interface Links {
  app: string;
  /** the accept link of an invitation */
  accept?: string;
  /** the web page that unsubscribes (one click there); absent for invitations */
  unsubscribe?: string;
  settings: string;
}

export interface Rendered {
  subject: string;
  html: string;
  text: string;
}

interface Content {
  subject: string;
  heading: string;
  paragraphs: string[];
  action?: { label: string; url: string };
}

type Payload = Record<string, unknown>;

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' && v.trim() !== '' ? v.trim() : fallback);

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// Subjects are one line: a title with a line break must not add a header.
function oneLine(s: string, max = 150): string {
  const flat = s.replace(/[\r\n\t]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function when(v: unknown): string {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? '' : new Date(t).toUTCString();
}

function uploadContent(event: NotificationEvent, p: Payload, links: Links): Content {
  const title = str(p.title, 'Your video');
  const where = str(p.channel_title) ? ` on ${str(p.channel_title)}` : '';
  const schedule = { label: 'Open the schedule', url: `${links.app}/schedule` };
  if (event === 'upload_published') {
    const id = str(p.youtube_video_id);
    return {
      subject: `Published: ${title}`,
      heading: 'Your video is on YouTube',
      paragraphs: [`"${title}" was uploaded${where}${when(p.published_at) ? ` at ${when(p.published_at)}` : ''}.`],
      action: id ? { label: 'Watch it on YouTube', url: `https://www.youtube.com/watch?v=${encodeURIComponent(id)}` } : schedule,
    };
  }
  if (event === 'upload_failed') {
    return {
      subject: `Upload failed: ${title}`,
      heading: 'An upload failed',
      paragraphs: [`"${title}" could not be uploaded${where}.`, ...(str(p.error) ? [`Reason: ${str(p.error)}`] : [])],
      action: schedule,
    };
  }
  const reason =
    str(p.waiting_reason) === 'upload_limit'
      ? 'YouTube limits how many videos a channel may upload in a day'
      : 'the YouTube quota for today is used up';
  return {
    subject: `Waiting for YouTube quota: ${title}`,
    heading: 'An upload is waiting',
    paragraphs: [`"${title}" is waiting to upload${where} because ${reason}. It will start by itself when quota is available.`],
    action: schedule,
  };
}

function renderContent(event: NotificationEvent, p: Payload, links: Links): Content {
  const title = str(p.content_title, 'your script');
  const ready = event === 'render_ready';
  return {
    subject: ready ? `Video ready: ${title}` : `Render failed: ${title}`,
    heading: ready ? 'Your video is ready' : 'A render failed',
    paragraphs: ready
      ? [`The video for "${title}" has been rendered and can be scheduled for upload.`]
      : [`The video for "${title}" could not be rendered.`, ...(str(p.error) ? [`Reason: ${str(p.error)}`] : [])],
    action: { label: 'Open your videos', url: `${links.app}/videos` },
  };
}

function digestContent(p: Payload, links: Links): Content {
  const alerts = Array.isArray(p.alerts) ? (p.alerts as Payload[]) : [];
  const lines = alerts
    .slice(0, 25)
    .map(
      (a) =>
        `${str(a.severity, 'info').toUpperCase()} · ${str(a.description, str(a.rule))} · opened ${when(a.opened_at)}${a.resolved_at ? ` · resolved ${when(a.resolved_at)}` : ' · still open'}`,
    );
  return {
    subject: `Alert digest for ${str(p.day)}: ${Number(p.open ?? 0)} open, ${Number(p.opened ?? 0)} opened`,
    heading: 'Alerts of the last 24 hours',
    paragraphs: [`${Number(p.opened ?? 0)} opened, ${Number(p.resolved ?? 0)} resolved, ${Number(p.open ?? 0)} still open.`, ...lines],
    action: { label: 'Open the admin page', url: `${links.app}/admin` },
  };
}

function contentOf(event: NotificationEvent, p: Payload, links: Links): Content {
  switch (event) {
    case 'upload_published':
    case 'upload_failed':
    case 'upload_waiting_quota':
      return uploadContent(event, p, links);
    case 'render_ready':
    case 'render_failed':
      return renderContent(event, p, links);
    case 'youtube_reauth_required':
      return {
        subject: `Reconnect YouTube: ${str(p.channel_title, 'your channel')}`,
        heading: 'YouTube access needs to be renewed',
        paragraphs: [
          `We can no longer reach "${str(p.channel_title, 'your channel')}" on YouTube: the access it granted was revoked or expired. Syncs and uploads for it are paused until someone reconnects it.`,
        ],
        action: { label: 'Reconnect the channel', url: `${links.app}/channels` },
      };
    case 'invitation':
      return {
        subject: `You are invited to ${str(p.workspace_name, 'a workspace')}`,
        heading: `Join ${str(p.workspace_name, 'a workspace')}`,
        paragraphs: [
          `${str(p.inviter_name, 'A workspace owner')} invited you to the workspace "${str(p.workspace_name)}" as ${str(p.role, 'a member')}.`,
          `The invitation is valid until ${when(p.expires_at) || 'it expires'}. If you did not expect it, ignore this email.`,
        ],
        action: links.accept ? { label: 'Accept the invitation', url: links.accept } : undefined,
      };
    case 'alert_digest':
      return digestContent(p, links);
  }
}

function footer(links: Links): { html: string; text: string } {
  if (!links.unsubscribe) return { html: '', text: '' };
  return {
    html:
      `<hr><p style="font-size:14px">You get this email because of your notification settings. ` +
      `<a href="${escapeHtml(links.unsubscribe)}">Unsubscribe from emails like this</a> or ` +
      `<a href="${escapeHtml(links.settings)}">change your notification settings</a>.</p>`,
    text: `\n--\nYou get this email because of your notification settings.\nUnsubscribe from emails like this: ${links.unsubscribe}\nChange your notification settings: ${links.settings}\n`,
  };
}

export function renderEmail(event: NotificationEvent, payload: Payload, links: Links): Rendered {
  const c = contentOf(event, payload, links);
  const foot = footer(links);
  const subject = oneLine(c.subject);
  const paragraphs = c.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const action = c.action ? `<p><a href="${escapeHtml(c.action.url)}">${escapeHtml(c.action.label)}</a></p>` : '';
  const html =
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escapeHtml(subject)}</title></head>\n<body style="font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#111;max-width:600px;margin:0 auto;padding:16px">\n` +
    `<h1 style="font-size:22px">${escapeHtml(c.heading)}</h1>\n${paragraphs}\n${action}\n${foot.html}\n</body></html>\n`;
  const text = `${c.heading}\n\n${c.paragraphs.join('\n\n')}\n${c.action ? `\n${c.action.label}: ${c.action.url}\n` : ''}${foot.text}`;
  return { subject, html, text };
}

export function categoryOf(event: NotificationEvent): Category | null {
  switch (event) {
    case 'upload_published':
      return 'upload_published';
    case 'upload_failed':
    case 'upload_waiting_quota':
      return 'upload_problems';
    case 'youtube_reauth_required':
      return 'youtube_reauth';
    case 'render_ready':
    case 'render_failed':
      return 'render_finished';
    case 'alert_digest':
      return 'alert_digest';
    case 'invitation':
      return null;
  }
}
