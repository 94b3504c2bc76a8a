/**
 * There is no Docker engine on these machines, so docker-compose.yml is checked by structure: every
 * service has a health check or is a one-shot, start order follows health, Redis keeps its data and
 * never evicts, no secret is written in the file, and every command the image runs exists.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/config/index.js';

type Service = {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
};

const compose = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const services = compose.services;

describe('docker-compose.yml', () => {
  it('has redis, mysql, the simulator and the worker', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'mysql', 'isp-sim', 'worker']));
  });

  it('runs Redis with AOF on and noeviction', () => {
    const command = services.redis!.command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it('gives every long-running service a health check, and starts the worker after them', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.restart === 'no') continue;
      expect(service.healthcheck, `${name} has a healthcheck`).toBeDefined();
    }
    const worker = services.worker!;
    for (const dependency of ['redis', 'mysql', 'isp-sim']) {
      expect(worker.depends_on?.[dependency]?.condition).toBe('service_healthy');
    }
  });

  it('writes no secret: every password comes from the environment', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/SECRET|PASSWORD|TOKEN/.test(key))
          expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+(:\?[^}]*)?\}$/);
        if (/_URL$/.test(key) && /:\/\/[^/@]*:[^/@]*@/.test(value)) expect(value).toMatch(/:\$\{[A-Z_]+\}@/);
      }
    }
  });

  it('runs only commands the CLI has', () => {
    const help = execFileSync('node', [join(PROJECT_ROOT, 'bin/isp-park-sync.js'), '--help'], {
      encoding: 'utf8',
    });
    for (const service of Object.values(services)) {
      if (!service.build) continue;
      const command = service.command?.[0] ?? 'start';
      expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });
});
