/**
 * Builds the token request from config.isp.auth (open point 1: the original leaves the body out, so
 * every part is configurable). Pure; holds the credentials only in the request it returns.
 */
import type { Config } from '../config/index.js';
import { IspConfigError } from './errors/index.js';

export type AuthConfig = Config['isp']['auth'];

export interface TokenRequest {
  headers: Record<string, string>;
  body: string;
}

export function buildTokenRequest(auth: AuthConfig): TokenRequest {
  assertCredentials(auth);
  const fields: Record<string, string> = { ...auth.extraFields, grant_type: auth.grantType };
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth.clientId !== undefined) {
    if (auth.clientAuth === 'basic') {
      // Raw `id:secret` as Spring Security OAuth2 (the ISP example's issuer) expects it.
      const pair = `${auth.clientId}:${auth.clientSecret ?? ''}`;
      headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
    } else {
      fields.client_id = auth.clientId;
      if (auth.clientSecret !== undefined) fields.client_secret = auth.clientSecret;
    }
  }
  if (auth.username !== undefined) {
    fields.username = auth.username;
    fields.password = auth.password ?? '';
  }
  if (auth.bodyFormat === 'form') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return { headers, body: new URLSearchParams(fields).toString() };
  }
  headers['content-type'] = 'application/json';
  return { headers, body: JSON.stringify(fields) };
}

export function assertCredentials(auth: AuthConfig): void {
  if (auth.clientId === undefined && auth.username === undefined) {
    throw new IspConfigError(
      'isp.auth: no ISP credentials configured; set ISP_CLIENT_ID and ISP_CLIENT_SECRET (or ISP_USERNAME and ISP_PASSWORD)',
    );
  }
}

/** The credential values of a config, to scrub from any text we log or put in an error. */
export function secretsOf(auth: AuthConfig): string[] {
  return [auth.clientSecret, auth.password].filter(
    (s): s is string => typeof s === 'string' && s.length >= 3,
  );
}

/** Replaces the given secrets (raw or URL-encoded) and any `Basic …`/`Bearer …` credential with `***`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    for (const form of [secret, encodeURIComponent(secret)]) {
      if (form) out = out.split(form).join('***');
    }
  }
  return out.replace(/(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/gi, '$1 ***');
}
