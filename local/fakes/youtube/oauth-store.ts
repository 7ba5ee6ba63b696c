// Authorization codes, refresh tokens and access tokens of the fake Google OAuth server.
import { randomBytes } from 'node:crypto';

export const ACCESS_TOKEN_SECONDS = 3599;
const CODE_SECONDS = 600; // Google's authorization codes are short-lived

export interface AuthCode {
  code: string;
  clientId: string | null; // null: any client may redeem it (codes minted through the control API)
  redirectUri: string | null;
  channelId: string;
  scopes: string[];
  challenge: string | null;
  challengeMethod: 'S256' | 'plain';
  offline: boolean;
  expiresAt: number;
  used: boolean;
}

export interface RefreshGrant {
  token: string;
  clientId: string | null;
  channelId: string;
  scopes: string[];
  revoked: boolean;
}

export interface AccessGrant {
  token: string;
  clientId: string | null;
  channelId: string;
  scopes: string[];
  expiresAt: number;
  refreshToken: string | null;
  revoked: boolean;
}

function opaque(prefix: string, bytes: number) {
  return prefix + randomBytes(bytes).toString('base64url');
}

export class OAuthStore {
  private codes = new Map<string, AuthCode>();
  private refresh = new Map<string, RefreshGrant>();
  private access = new Map<string, AccessGrant>();

  constructor(private readonly now: () => number) {}

  issueCode(c: Omit<AuthCode, 'code' | 'expiresAt' | 'used'>): AuthCode {
    const code: AuthCode = { ...c, code: opaque('4/0A', 48), expiresAt: this.now() + CODE_SECONDS * 1000, used: false };
    this.codes.set(code.code, code);
    return code;
  }

  findCode(code: string): AuthCode | undefined {
    return this.codes.get(code);
  }

  issueRefresh(g: Omit<RefreshGrant, 'token' | 'revoked'>): RefreshGrant {
    const grant: RefreshGrant = { ...g, token: opaque('1//0', 72), revoked: false };
    this.refresh.set(grant.token, grant);
    return grant;
  }

  /** A refresh grant with a token chosen by the caller (the demo channel's well-known one). */
  registerRefresh(g: Omit<RefreshGrant, 'revoked'>): RefreshGrant {
    const grant: RefreshGrant = { ...g, revoked: false };
    this.refresh.set(grant.token, grant);
    return grant;
  }

  findRefresh(token: string): RefreshGrant | undefined {
    return this.refresh.get(token);
  }

  issueAccess(g: Omit<AccessGrant, 'token' | 'expiresAt' | 'revoked'>): AccessGrant {
    const grant: AccessGrant = { ...g, token: opaque('ya29.a0', 96), expiresAt: this.now() + ACCESS_TOKEN_SECONDS * 1000, revoked: false };
    this.access.set(grant.token, grant);
    return grant;
  }

  /** The grant behind a bearer token, only while it is valid. */
  validAccess(token: string): AccessGrant | undefined {
    const g = this.access.get(token);
    if (!g || g.revoked || g.expiresAt <= this.now()) return undefined;
    return g;
  }

  /**
   * Revokes a refresh or access token. Like Google, revoking either ends the whole grant:
   * the refresh token and every access token minted from it.
   */
  revoke(token: string): boolean {
    const refreshToken = this.refresh.has(token) ? token : (this.access.get(token)?.refreshToken ?? null);
    const accessGrant = this.access.get(token);
    const alreadyDead = (accessGrant?.revoked ?? true) && (refreshToken === null || this.refresh.get(refreshToken)!.revoked);
    if (alreadyDead) return false;
    if (accessGrant) accessGrant.revoked = true;
    if (refreshToken) {
      const r = this.refresh.get(refreshToken);
      if (r) r.revoked = true;
      for (const a of this.access.values()) if (a.refreshToken === refreshToken) a.revoked = true;
    }
    return true;
  }

  /** Expires one access token, or all of them; returns how many changed. */
  expireAccess(token?: string): number {
    let n = 0;
    for (const a of this.access.values()) {
      if (token !== undefined && a.token !== token) continue;
      if (a.expiresAt > this.now()) n++;
      a.expiresAt = this.now() - 1;
    }
    return n;
  }

  clear() {
    this.codes.clear();
    this.refresh.clear();
    this.access.clear();
  }
}
