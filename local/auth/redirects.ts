// Where Auth may send people back to (GoTrue's GetReferrer / IsRedirectURLValid): the site URL's
// own origin, loopback addresses, or a URL matching additional_redirect_urls, whose patterns are
// globs in which `*` stays within one host label or path segment and `**` crosses them.
import type { IncomingMessage } from 'node:http';

function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^./]*';
    else if (c === '?') out += '[^./]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isRedirectUrlValid(siteUrl: string, allowList: string[], candidate: string): boolean {
  if (!candidate) return false;
  let base: URL;
  let ref: URL;
  try {
    base = new URL(siteUrl);
    ref = new URL(candidate);
  } catch {
    return false;
  }
  const hostname = ref.hostname;
  if (base.hostname === hostname && base.protocol === ref.protocol && (base.port === ref.port || LOOPBACK_NAMES.has(hostname))) {
    return true;
  }
  const isHttp = ref.protocol === 'http:' || ref.protocol === 'https:';
  if (/^[0-9]+$/.test(hostname)) return false;
  if (/^[0-9.]+$/.test(hostname) || hostname.startsWith('[')) return LOOPBACK_NAMES.has(hostname) || hostname.startsWith('127.');
  if (isHttp && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(hostname)) return false;
  const withoutFragment = candidate.split('#')[0]!;
  return allowList.some((pattern) => globToRegExp(pattern).test(withoutFragment));
}

/** redirect_to from the query (supabase-js puts it there), else the Referer, else the site URL. */
export function referrer(req: IncomingMessage, url: URL, siteUrl: string, allowList: string[], fromBody?: string | null): string {
  const requested = url.searchParams.get('redirect_to') ?? fromBody ?? '';
  if (isRedirectUrlValid(siteUrl, allowList, requested)) return requested;
  const header = req.headers.referer ?? '';
  if (isRedirectUrlValid(siteUrl, allowList, header)) return header;
  return siteUrl;
}
