/**
 * `/readyz` of several sources (src/web/fleet-readiness.ts): ready only when every running source
 * is; one source keeps its own checks at the top; several get one check per source saying what
 * fails there; none is not ready.
 */
import { describe, expect, it } from 'vitest';
import type { IdleSource, SourceReadiness } from '../../src/pipeline/fleet-view.js';
import { combineReadiness } from '../../src/web/fleet-readiness.js';

const READY: SourceReadiness = {
  ok: true,
  checks: { redis: { ok: true }, isp: { ok: false, message: 'ISP down', informational: true } },
};
const STALE: SourceReadiness = {
  ok: false,
  checks: {
    redis: { ok: true },
    polls: { ok: false, message: 'entrances last polled successfully 400 s ago (limit 300 s)' },
    workers: {
      ok: false,
      message: 'jobs are not consumed (push-entrances: not running): restart this process',
    },
    isp: { ok: false, message: 'ISP down', informational: true },
  },
};
const REMOVED: IdleSource = {
  name: 'west',
  state: 'removed',
  reason: 'removed from the config; its state and failed jobs are kept',
  since: 1_772_323_200_500,
};

describe('combineReadiness', () => {
  it('one source: its own checks at the top, as before sources existed', () => {
    const verdict = combineReadiness([{ name: 'default', readiness: READY }], []);
    expect(verdict).toEqual({ ok: true, checks: READY.checks, sources: { default: READY }, idle: [] });
    expect(combineReadiness([{ name: 'default', readiness: STALE }], []).ok).toBe(false);
  });

  it('several: ready only when every one is; a check per source names what fails there', () => {
    const verdict = combineReadiness(
      [
        { name: 'north', readiness: READY },
        { name: 'south', readiness: STALE },
      ],
      [REMOVED],
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.checks).toEqual({
      north: { ok: true },
      south: {
        ok: false,
        message:
          'polls: entrances last polled successfully 400 s ago (limit 300 s); ' +
          'workers: jobs are not consumed (push-entrances: not running): restart this process',
      },
    });
    expect(verdict.sources).toEqual({ north: READY, south: STALE });
    // A source not running does not decide readiness; it is listed, its time in Unix seconds.
    expect(verdict.idle).toEqual([{ ...REMOVED, since: 1_772_323_200 }]);
    const both = combineReadiness(
      [
        { name: 'north', readiness: READY },
        { name: 'south', readiness: READY },
      ],
      [REMOVED],
    );
    expect(both.ok).toBe(true);
    expect(both.checks).toEqual({ north: { ok: true }, south: { ok: true } });
  });

  it('none running: not ready, saying why', () => {
    const verdict = combineReadiness([], [REMOVED]);
    expect(verdict.ok).toBe(false);
    expect(verdict.checks.sources).toEqual({
      ok: false,
      message:
        'no source is running in this process: west removed (removed from the config; its state and failed jobs are kept); correct the config and reload',
    });
  });
});
