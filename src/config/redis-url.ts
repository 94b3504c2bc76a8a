/**
 * What REDIS_URL names: one Redis server (`redis://`, `rediss://` with TLS) or a Redis Cluster
 * (`redis+cluster://`, `rediss+cluster://`) given by one or more of its nodes, comma-separated:
 * `redis+cluster://[user:pass@]h1:7000,h2:7001,h3:7002`. Any reachable node is enough to start;
 * the client learns the others from the cluster. Pure: parses, never connects.
 */

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface RedisTarget {
  cluster: boolean;
  /** The one server, or the cluster's seed nodes as written. */
  nodes: RedisEndpoint[];
  username?: string;
  password?: string;
  /** Always 0 on a cluster (it has no other database). */
  db: number;
  tls: boolean;
}

export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//i;
const DEFAULT_PORT = 6379;

export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/** Parses REDIS_URL; throws a RedisUrlError saying what is wrong and how it is written. */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = CLUSTER_SCHEME.exec(url);
  return scheme ? parseClusterUrl(url, scheme[1]!.toLowerCase() === 'rediss') : parseServerUrl(url);
}

function parseServerUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(
      url.includes(',')
        ? 'is not a valid URL: several nodes name a Redis Cluster, written redis+cluster://h1:7000,h2:7001,h3:7002'
        : 'is not a valid URL: write redis://[:password@]host:6379[/db]',
    );
  }
  if (!/^rediss?:$/.test(u.protocol))
    throw new RedisUrlError('must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL');
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    cluster: false,
    nodes: [{ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || DEFAULT_PORT) }],
    ...(u.username ? { username: decode(u.username) } : {}),
    ...(u.password ? { password: decode(u.password) } : {}),
    db,
    tls: u.protocol === 'rediss:',
  };
}

/**
 * A URL parser cannot read a host list, so the cluster form is split by hand: the user info ends
 * at the last `@` (as redactUrl reads it, so a raw `@` in a password stays in the password).
 */
function parseClusterUrl(url: string, tls: boolean): RedisTarget {
  const rest = url.slice(url.indexOf('//') + 2);
  const at = rest.lastIndexOf('@');
  const userInfo = at === -1 ? '' : rest.slice(0, at);
  const afterAt = rest.slice(at + 1);
  const end = afterAt.search(/[/?#]/);
  const hostList = end === -1 ? afterAt : afterAt.slice(0, end);
  const path = end === -1 ? '' : afterAt.slice(end).replace(/[?#].*$/, '');
  if (path !== '' && path !== '/' && path !== '/0')
    throw new RedisUrlError(
      `a Redis Cluster has only database 0: remove "${path}" from the URL (keep workers apart with redis.prefix)`,
    );
  const nodes = hostList.split(',').map((text) => parseEndpoint(text.trim()));
  const colon = userInfo.indexOf(':');
  const username = colon === -1 ? userInfo : userInfo.slice(0, colon);
  const password = colon === -1 ? '' : userInfo.slice(colon + 1);
  return {
    cluster: true,
    nodes,
    ...(username ? { username: decode(username) } : {}),
    ...(password ? { password: decode(password) } : {}),
    db: 0,
    tls,
  };
}

function parseEndpoint(text: string): RedisEndpoint {
  const m = /^(\[[0-9a-f:.]+\]|[^\s:[\]]+)(?::(\d+))?$/i.exec(text);
  const port = Number(m?.[2] ?? DEFAULT_PORT);
  if (!m || port < 1 || port > 65_535)
    throw new RedisUrlError(
      `node "${text}" is not host:port: write redis+cluster://h1:7000,h2:7001,h3:7002 (any reachable nodes of the cluster)`,
    );
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a raw `%` that is not an escape: the text is what was written
  }
}

/**
 * The key prefix's hash tag: Redis Cluster hashes only the text between the first `{` and the
 * first `}` after it, when that is not empty, so every key starting with the prefix lands in one
 * slot. Undefined when the prefix has none.
 */
export function hashTag(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open === -1) return undefined;
  const close = prefix.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return prefix.slice(open + 1, close);
}

/** `127.0.0.1:6379 (db 0)` or `cluster 10.0.0.1:7000, 10.0.0.2:7000 (user x, with a password)`; never the password. */
export function describeRedisTarget(target: RedisTarget): string {
  const where = target.nodes
    .map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`)
    .join(', ');
  const user = target.username ? `user ${target.username}` : '';
  const auth = target.password ? 'with a password' : '';
  if (target.cluster) {
    const extra = [user, auth].filter(Boolean).join(', ');
    return `cluster ${where}${extra ? ` (${extra})` : ''}`;
  }
  return `${where} (db ${target.db}${user ? `, ${user}` : ''}${auth ? `, ${auth}` : ''})`;
}
