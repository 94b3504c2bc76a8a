#!/usr/bin/env node
// The container health check (docker-compose.yml): asks the worker's own dashboard on loopback for
// /healthz (alive: its workers consume jobs) and /readyz (Redis, the vendor database and ISP
// reachable), and exits 0 only when both answer 200. /readyz needs the dashboard's credentials:
// WEB_TOKEN (bearer) or WEB_USER + WEB_PASSWORD, each also from its *_FILE as the worker reads
// them. Prints one line saying what failed; never prints a credential.
import { readFileSync } from 'node:fs';

const port = process.env.WEB_PORT || '8080';
const base = `http://127.0.0.1:${port}`;

function secret(name) {
  const file = process.env[`${name}_FILE`];
  if (file) return readFileSync(file, 'utf8').replace(/(\r?\n)+$/, '');
  return process.env[name] || undefined;
}

function authorization() {
  const token = secret('WEB_TOKEN');
  if (token) return `Bearer ${token}`;
  const user = secret('WEB_USER');
  const password = secret('WEB_PASSWORD');
  if (user && password) return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return undefined;
}

async function probe(path, headers) {
  try {
    const response = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(4000) });
    const body = await response.text();
    return response.status === 200 ? undefined : `${path} ${response.status} ${body.slice(0, 300)}`;
  } catch (error) {
    return `${path} unreachable (${error.cause?.code ?? error.message})`;
  }
}

let auth;
try {
  auth = authorization();
} catch (error) {
  console.error(`healthcheck: cannot read the dashboard credentials (${error.code ?? error.message})`);
  process.exit(1);
}
const problems = (
  await Promise.all([probe('/healthz', {}), probe('/readyz', auth ? { authorization: auth } : {})])
).filter(Boolean);
if (problems.length > 0) {
  console.error(`unhealthy: ${problems.join('; ')}`);
  process.exit(1);
}
console.log('healthy: /healthz and /readyz 200');
