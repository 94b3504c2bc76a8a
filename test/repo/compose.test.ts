/**
 * There is no Docker engine on these machines, so the compose files are checked without it: each
 * validates against the Compose Specification's JSON schema (test/repo/schemas/compose-spec.json,
 * from github.com/compose-spec/compose-spec, Apache-2.0), the production file has the production
 * shape (no demo service, no root database account, no secret literal, limits, health checks),
 * every command the image runs exists, and the health check script really asks /healthz and
 * /readyz.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS, FILE_SUFFIX, PROJECT_ROOT } from '../../src/config/index.js';

type Service = {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  init?: boolean;
  user?: string;
  read_only?: boolean;
  secrets?: string[];
  logging?: { driver: string; options?: Record<string, string> };
  deploy?: { replicas?: number | string; resources?: { limits?: { memory?: string } } };
};
type ComposeFile = {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string; environment?: string }>;
};

const text = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');
const load = (file: string) => parse(text(file), { merge: true }) as ComposeFile;
const FILES = ['docker-compose.yml', 'docker-compose.demo.yml'];
const production = load('docker-compose.yml');
const demo = load('docker-compose.demo.yml');

describe('compose files', () => {
  // The schema names its draft as https://json-schema.org/draft-07/schema, which Ajv knows only as
  // http://…/schema#: dropped, and Ajv validates with draft-07 (its default). strict: false lets
  // the schema's annotations (deprecated) pass.
  const { $schema: _draft, ...schema } = JSON.parse(text('test/repo/schemas/compose-spec.json'));
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);

  it.each(FILES)('%s validates against the Compose Specification schema', (file) => {
    const ok = validate(parse(text(file)));
    expect(validate.errors ?? [], file).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check can fail: a misspelt key and a wrong type are caught', () => {
    expect(validate({ services: { worker: { image: 'x', restart_policy: 'always' } } })).toBe(false);
    expect(validate({ services: { worker: { image: 'x', volumes: 'redis-data:/data' } } })).toBe(false);
  });

  it('run only commands the CLI has', () => {
    const help = execFileSync(process.execPath, [join(PROJECT_ROOT, 'bin/isp-park-sync.js'), '--help'], {
      encoding: 'utf8',
    });
    for (const file of [production, demo]) {
      for (const service of Object.values(file.services)) {
        if (!service.build) continue;
        const command = service.command?.[0] ?? 'start';
        expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
      }
    }
  });

  it('set only variables the worker reads', () => {
    const known = new Set(
      ENV_VARS.flatMap((v) => [v.name, ...(v.secret || v.fromFile ? [`${v.name}${FILE_SUFFIX}`] : [])]),
    );
    known.add('ISP_SYNC_CONFIG');
    for (const file of [production, demo]) {
      for (const [name, service] of Object.entries(file.services)) {
        if (!service.build && name !== 'worker') continue;
        for (const key of Object.keys(service.environment ?? {}))
          expect(known, `${name}.${key}`).toContain(key);
      }
    }
  });
});

describe('docker-compose.yml (production)', () => {
  const services = production.services;

  it('is the worker and Redis, with no demo service', () => {
    expect(Object.keys(services).sort()).toEqual(['redis', 'worker']);
    const raw = text('docker-compose.yml').replace(/^\s*#.*$/gm, '');
    expect(raw).not.toMatch(/isp-sim|demo-seed|demo-traffic|mariadb|mysql:\s*$/m);
    expect(services.worker!.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
  });

  it('names no root database account and writes no secret', () => {
    const raw = text('docker-compose.yml').replace(/^\s*#.*$/gm, '');
    expect(raw).not.toMatch(/\broot\b/i);
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        const variable = ENV_VARS.find((v) => v.name === key);
        if (variable?.secret && key !== 'REDIS_URL')
          throw new Error(`${name}.${key}: a secret set in the file`);
        if (/SECRET|PASSWORD|TOKEN/.test(key)) expect(key, `${name}.${key}`).toMatch(/_FILE$/);
        if (key.endsWith(FILE_SUFFIX)) expect(value, `${name}.${key}`).toMatch(/^\/run\/secrets\/[a-z_]+$/);
        expect(value, `${name}.${key}`).not.toMatch(/:\/\/[^/@\s]*:[^/@\s]*@/);
      }
    }
    for (const [name, source] of Object.entries(production.secrets ?? {})) {
      expect(source.file, `secret ${name} comes from a file`).toMatch(/^\.\/secrets\/[a-z_]+$/);
    }
    const worker = services.worker!;
    for (const key of ['ISP_CLIENT_ID', 'ISP_CLIENT_SECRET', 'VENDOR_DB_URL', 'WEB_USER', 'WEB_PASSWORD']) {
      const path = worker.environment?.[`${key}${FILE_SUFFIX}`];
      expect(path, key).toBeDefined();
      expect(worker.secrets).toContain(path!.split('/').pop());
    }
  });

  it('runs Redis with AOF, noeviction and a memory limit below its container', () => {
    const command = services.redis!.command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    const maxmemory = Number(/--maxmemory (\d+)mb/.exec(command)?.[1]);
    const limit = Number(/^(\d+)M$/.exec(services.redis!.deploy?.resources?.limits?.memory ?? '')?.[1]);
    expect(maxmemory).toBeGreaterThan(0);
    expect(maxmemory).toBeLessThan(limit);
    expect(text('docker-compose.yml')).toMatch(/redis-data:\/data/);
  });

  it('hardens every service: init, non-root, read-only, memory limit, log rotation, restart, health check', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.init, name).toBe(true);
      expect(service.user, name).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(service.read_only, name).toBe(true);
      expect(service.deploy?.resources?.limits?.memory, name).toMatch(/^\d+[MG]$/);
      expect(service.logging?.options?.['max-size'], name).toBeDefined();
      expect(service.logging?.options?.['max-file'], name).toBeDefined();
      expect(service.restart, name).toBe('unless-stopped');
      expect(service.healthcheck?.test, name).toBeDefined();
    }
    expect(services.worker!.healthcheck!.test).toEqual(['CMD', 'node', 'bin/healthcheck.js']);
    expect(services.worker!.deploy?.replicas).toMatch(/^\$\{WORKER_REPLICAS:-1\}$/);
  });
});

describe('docker-compose.demo.yml', () => {
  it('adds the demo around the production worker, which reads the demo database read-only', () => {
    expect(Object.keys(demo.services).sort()).toEqual([
      'demo-seed',
      'demo-traffic',
      'isp-sim',
      'mysql',
      'worker',
    ]);
    expect(demo.services.worker!.environment?.ISP_BASE_URL).toBe('http://isp-sim:8090');
    expect(demo.services.worker!.environment?.ISP_ALLOW_INSECURE_HTTP).toBe('true');
    expect(text('deploy/demo/mariadb-init.sh')).toMatch(/GRANT SELECT ON parking_demo\.\* TO 'isp_sync_ro'/);
    expect(text('deploy/demo/make-secrets.sh')).toMatch(/vendor_db_url "mysql:\/\/isp_sync_ro:/);
  });

  it('writes no secret either', () => {
    for (const [name, service] of Object.entries(demo.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/SECRET|PASSWORD|TOKEN/.test(key)) expect(value, `${name}.${key}`).toMatch(/^\/run\/secrets\//);
      }
    }
    for (const source of Object.values(demo.secrets ?? {})) expect(source.file).toMatch(/^\.\/secrets\//);
  });
});

describe('bin/healthcheck.js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ips-healthcheck-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(status: { healthz: number; readyz: number }, seen: IncomingHttpHeaders[]) {
    const server = createServer((request, response) => {
      seen.push(request.headers);
      const code =
        request.url === '/healthz' ? status.healthz : request.url === '/readyz' ? status.readyz : 404;
      response.writeHead(code, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ ok: code === 200, checks: { isp: { ok: code === 200, message: 'isp down' } } }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  function check(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/healthcheck.js')], {
        env: { PATH: process.env.PATH, ...env },
      });
      let output = '';
      child.stdout.on('data', (c) => {
        output += c;
      });
      child.stderr.on('data', (c) => {
        output += c;
      });
      child.once('exit', (code) => resolve({ code, output }));
    });
  }

  it('is healthy only when /healthz and /readyz answer 200, and sends the credentials from *_FILE', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const status = { healthz: 200, readyz: 200 };
    const server = await serve(status, seen);
    const port = String((server.address() as AddressInfo).port);
    writeFileSync(join(dir, 'user'), 'ops\n');
    writeFileSync(join(dir, 'password'), 'pass-under-test\n');
    const env = {
      WEB_PORT: port,
      WEB_USER_FILE: join(dir, 'user'),
      WEB_PASSWORD_FILE: join(dir, 'password'),
    };
    try {
      const healthy = await check(env);
      expect(healthy.code, healthy.output).toBe(0);
      const basic = `Basic ${Buffer.from('ops:pass-under-test').toString('base64')}`;
      expect(seen.map((h) => h.authorization)).toContain(basic);
      status.readyz = 503;
      const unready = await check(env);
      expect(unready.code).toBe(1);
      expect(unready.output).toContain('/readyz 503');
      expect(unready.output).toContain('isp down');
      expect(unready.output).not.toContain('pass-under-test');
      status.readyz = 200;
      status.healthz = 503;
      expect((await check(env)).code).toBe(1);
    } finally {
      server.close();
    }
    const down = await check({ WEB_PORT: '1' });
    expect(down.code).toBe(1);
    expect(down.output).toContain('unreachable');
  });
});
