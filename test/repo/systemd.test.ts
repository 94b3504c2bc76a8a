/**
 * deploy/isp-park-sync.service: the unit starts the worker as the image does (node flags, entry,
 * command), hands every secret over as a systemd credential read through its *_FILE variable,
 * and does not restart on a configuration error (exit 78). systemd is not run here; the unit is read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_NODE_FLAGS } from '../../src/cli/memory.js';
import { ENV_VARS, FILE_SUFFIX, PROJECT_ROOT } from '../../src/config/index.js';

const unit = readFileSync(join(PROJECT_ROOT, 'deploy/isp-park-sync.service'), 'utf8');
const lines = unit.split('\n').filter((line) => line && !line.startsWith('#'));
const values = (key: string) =>
  lines.filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));

describe('systemd unit', () => {
  it('has its three sections and runs start with the worker node flags', () => {
    expect(lines.filter((line) => line.startsWith('['))).toEqual(['[Unit]', '[Service]', '[Install]']);
    expect(values('ExecStart')).toEqual([
      `/usr/bin/node ${WORKER_NODE_FLAGS.join(' ')} bin/isp-park-sync.js start`,
    ]);
    expect(values('User')).toEqual(['isp-sync']);
  });

  it('passes each secret as a credential file, and no secret value', () => {
    const credentials = new Map(values('LoadCredential').map((v) => v.split(':') as [string, string]));
    const environment = values('Environment').map((v) => v.split('=') as [string, string]);
    const fileVars = environment.filter(([name]) => name.endsWith(FILE_SUFFIX));
    expect(fileVars.map(([name]) => name).sort()).toEqual(
      [
        'ISP_CLIENT_ID_FILE',
        'ISP_CLIENT_SECRET_FILE',
        'VENDOR_DB_URL_FILE',
        'WEB_PASSWORD_FILE',
        'WEB_USER_FILE',
      ].sort(),
    );
    for (const [name, value] of fileVars) {
      const variable = ENV_VARS.find((v) => `${v.name}${FILE_SUFFIX}` === name);
      expect(variable?.secret || variable?.fromFile, name).toBe(true);
      const credential = /^%d\/([a-z_]+)$/.exec(value)?.[1];
      expect(credentials.get(credential!), name).toMatch(/^\/etc\/isp-park-sync\/secrets\//);
    }
    for (const [name] of environment)
      expect(ENV_VARS.find((v) => v.name === name)?.secret ?? false, name).toBe(false);
  });

  it('does not restart on a configuration error and stops gracefully', () => {
    expect(values('RestartPreventExitStatus')).toEqual(['78']);
    expect(values('Restart')).toEqual(['on-failure']);
    expect(Number(values('TimeoutStopSec')[0])).toBeGreaterThanOrEqual(30);
  });
});
