/**
 * Issues and checks the simulator's bearer tokens: JWT-shaped like the spec's example, answered
 * with `expires_in` as a string (spec §1). Keeps the tokens it issued with their expiry and the
 * client each was issued to (what a receipt records as its sender); expired ones are pruned as new
 * ones are issued. Counts issues (tests assert shared refreshes with it).
 */
import { randomBytes, randomUUID } from 'node:crypto';

export interface IssuedToken {
  access_token: string;
  token_type: 'bearer';
  /** Seconds, as a string, as in the spec's example. */
  expires_in: string;
  scope: 'all';
  /** The example's extra field; not a bearer token here. */
  token: string;
}

export type TokenCheck = 'ok' | 'missing' | 'malformed' | 'unknown' | 'expired';

/** A check's result; a valid token also names the client it was issued to. */
export type TokenVerdict = { check: 'ok'; clientId: string } | { check: Exclude<TokenCheck, 'ok'> };

interface Held {
  expiresAt: number;
  clientId: string;
}

export class TokenIssuer {
  private readonly tokens = new Map<string, Held>();
  issued = 0;

  issue(clientId: string, ttlSeconds: number, now: number): IssuedToken {
    this.prune(now);
    const exp = Math.floor(now / 1000) + ttlSeconds;
    const header = base64url({ alg: 'HS256', typ: 'JWT' });
    const payload = base64url({
      exp,
      scope: ['all'],
      authorities: ['ROLE_USER'],
      jti: randomUUID(),
      client_id: clientId,
    });
    const accessToken = `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
    this.tokens.set(accessToken, { expiresAt: now + ttlSeconds * 1000, clientId });
    this.issued++;
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: String(ttlSeconds),
      scope: 'all',
      token: randomBytes(16).toString('base64'),
    };
  }

  check(authorization: string | undefined, now: number): TokenCheck {
    return this.verify(authorization, now).check;
  }

  /** As `check`, and for a valid token the client it was issued to. */
  verify(authorization: string | undefined, now: number): TokenVerdict {
    if (!authorization) return { check: 'missing' };
    const match = /^bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) return { check: 'malformed' };
    const held = this.tokens.get(match[1]!);
    if (held === undefined) return { check: 'unknown' };
    return now < held.expiresAt ? { check: 'ok', clientId: held.clientId } : { check: 'expired' };
  }

  /** Every token issued so far expires now (clients must fetch a new one after a 401). */
  expireAll(now: number): void {
    for (const held of this.tokens.values()) held.expiresAt = now;
  }

  private prune(now: number): void {
    // Keep expired tokens a while so a client using one hears "expired", not "unknown".
    for (const [token, held] of this.tokens) if (held.expiresAt < now - 3600_000) this.tokens.delete(token);
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
