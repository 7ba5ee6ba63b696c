// The external services the product talks to, where the real ones are, and whether a deployment
// is configured to talk to each real service or to a stand-in. Plain TypeScript without imports:
// the functions (health), the local stack's start banner and `npm run doctor` all decide it the
// same way, from base URLs alone, so no code path ever branches on "local".

export const INTEGRATIONS = ['youtube', 'gemini', 'revid'] as const;
export type Integration = (typeof INTEGRATIONS)[number];
export type Backend = 'real' | 'fake';

export const GOOGLE_TOKEN_BASE = 'https://oauth2.googleapis.com';
export const GOOGLE_CONSENT_BASE = 'https://accounts.google.com';

/** The production hosts, the defaults of every base URL variable. */
export const REAL_BASES = {
  YOUTUBE_API_BASE: 'https://www.googleapis.com',
  YOUTUBE_OAUTH_BASE: GOOGLE_TOKEN_BASE,
  YOUTUBE_UPLOAD_BASE: 'https://www.googleapis.com',
  YOUTUBE_ANALYTICS_BASE: 'https://youtubeanalytics.googleapis.com',
  GEMINI_API_BASE: 'https://generativelanguage.googleapis.com',
  REVID_API_BASE: 'https://www.revid.ai',
} as const;
export type BaseVariable = keyof typeof REAL_BASES;

/** The variables that hold each service's credential, and its base URLs. */
export const INTEGRATION_VARIABLES: Record<Integration, { credentials: readonly string[]; bases: readonly BaseVariable[] }> = {
  youtube: {
    credentials: ['YOUTUBE_CLIENT_ID', 'YOUTUBE_CLIENT_SECRET'],
    bases: ['YOUTUBE_API_BASE', 'YOUTUBE_OAUTH_BASE', 'YOUTUBE_UPLOAD_BASE', 'YOUTUBE_ANALYTICS_BASE'],
  },
  gemini: { credentials: ['GEMINI_API_KEY'], bases: ['GEMINI_API_BASE'] },
  revid: { credentials: ['REVID_API_KEY'], bases: ['REVID_API_BASE'] },
};

/**
 * Google's consent page is on accounts.google.com while its token endpoint is on
 * oauth2.googleapis.com; a stand-in (emulator, proxy) answers both under one base.
 */
export function consentBaseFor(tokenBase: string, explicit?: string): string {
  if (explicit) return explicit;
  return tokenBase === GOOGLE_TOKEN_BASE ? GOOGLE_CONSENT_BASE : tokenBase;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * 'fake' when any of the service's base URLs is on one of the given fakes' origins (the local
 * stack names its fakes in API_FAKES_ORIGIN), 'real' otherwise: a base URL elsewhere is treated
 * as the service itself, whoever answers there.
 */
export function backendOf(baseUrls: readonly string[], fakesOrigins: readonly string[]): Backend {
  const fakes = new Set(fakesOrigins.map(originOf).filter((o): o is string => o !== null));
  return baseUrls.some((u) => {
    const origin = originOf(u);
    return origin !== null && fakes.has(origin);
  })
    ? 'fake'
    : 'real';
}

/** Every service's backend from an env-like record (unset base URLs are the real hosts). */
export function backends(
  env: Partial<Record<BaseVariable, string | undefined>>,
  fakesOrigins: readonly string[],
): Record<Integration, Backend> {
  const out = {} as Record<Integration, Backend>;
  for (const service of INTEGRATIONS) {
    const urls = INTEGRATION_VARIABLES[service].bases.map((name) => env[name] || REAL_BASES[name]);
    out[service] = backendOf(urls, fakesOrigins);
  }
  return out;
}
