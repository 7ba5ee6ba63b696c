// Auth's emails: the templates supabase/config.toml names ([auth.email.template.*], the same
// files hosted Auth gets), rendered with GoTrue's variables and sent over SMTP (nodemailer) to
// the local mail catcher. Nothing about a message (address, code, link) is logged.
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AuthConfig, EmailTemplateName } from './config.ts';
import { unexpectedFailure } from './errors.ts';

export interface TemplateData {
  ConfirmationURL: string;
  Token: string;
  TokenHash: string;
  SiteURL: string;
  RedirectTo: string;
  Email: string;
  NewEmail?: string;
}

// GoTrue's default subjects and bodies, for a template config.toml does not customise.
const DEFAULT_SUBJECTS: Record<EmailTemplateName, string> = {
  confirmation: 'Confirm your email address',
  invite: "You've been invited",
  recovery: 'Reset your password',
  magic_link: 'Your sign-in link',
  email_change: 'Confirm your new email address',
};
const DEFAULT_BODY =
  '<h2>{{ .SiteURL }}</h2><p><a href="{{ .ConfirmationURL }}">Follow this link</a></p><p>Or enter this code: {{ .Token }}</p>';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The subset of Go templates the project's templates use: `{{ .Name }}`, HTML-escaped. */
export function renderTemplate(template: string, data: TemplateData, escape = true): string {
  return template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, name: string) => {
    const value = (data as unknown as Record<string, string | undefined>)[name] ?? '';
    return escape ? escapeHtml(value) : value;
  });
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&#34;': '"',
  '&quot;': '"',
  '&#39;': "'",
  '&nbsp;': ' ',
};

/** A plain-text alternative of an HTML email: links written out, tags dropped. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(style|head)[\s\S]*?<\/\1>/gi, '')
    .replace(/<a\s[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, (_m, href: string, label: string) => {
      const text = label.replace(/<[^>]+>/g, '').trim();
      return text && text !== href ? `${text}: ${href}` : href;
    })
    .replace(/<\/(p|h[1-6]|li|div|tr)>|<br\s*\/?>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&[#\w]+;/g, (e) => ENTITIES[e] ?? e)
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n\s*/g, '\n\n')
    .trim();
}

export interface Mailer {
  send(template: EmailTemplateName, to: string, data: TemplateData): Promise<void>;
  close(): void;
}

export function createMailer(config: AuthConfig, smtp: { host: string; port: number }, log: (line: string) => void = console.log): Mailer {
  const transport: Transporter = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
    // Auth answers within the request, as GoTrue does; a catcher that does not answer fails it.
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10_000,
    logger: false,
  });
  const bodies = new Map<EmailTemplateName, string>();
  const body = (name: EmailTemplateName) => {
    if (!bodies.has(name)) {
      const path = config.templates[name]?.contentPath;
      bodies.set(name, path ? readFileSync(path, 'utf8') : DEFAULT_BODY);
    }
    return bodies.get(name)!;
  };
  return {
    async send(template, to, data) {
      const html = renderTemplate(body(template), data);
      const subject = renderTemplate(config.templates[template]?.subject ?? DEFAULT_SUBJECTS[template], data, false);
      try {
        const info = await transport.sendMail({
          from: { name: config.sender.name, address: config.sender.email },
          to,
          subject,
          html,
          text: htmlToText(html),
        });
        log(`auth: sent the ${template} email (${info.messageId})`);
      } catch (err) {
        // The SMTP error names no recipient; the address stays out of the log.
        console.error(
          `auth: sending a ${template} email failed: ${(err as Error).message.replace(/[^\s<>@"']+@[^\s<>"']+/g, '[address]')}`,
        );
        throw unexpectedFailure(`Error sending ${template === 'confirmation' ? 'confirmation' : template.replace('_', ' ')} email`);
      }
    },
    close() {
      transport.close();
    },
  };
}
