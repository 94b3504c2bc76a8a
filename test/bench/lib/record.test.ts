/** The docs record: a full run replaces it, a run of some groups replaces its figures only. */
import { describe, expect, it } from 'vitest';
import { mergeRecord, RECORD_END, RECORD_START, recordMarkdown, spliceRecord } from './record.js';
import { makeResult, type ResultsFile } from './report.js';

function file(command: string, ids: Array<[string, number]>): ResultsFile {
  return {
    mode: 'full',
    notes: [],
    command,
    startedAt: '2026-12-03T08:00:00.000Z',
    durationSeconds: 60,
    machine: { cpus: 2, cpuModel: 'cpu', memoryGb: 24, os: 'linux', loadStart: '1', loadEnd: '2' },
    versions: { node: '24', mariadb: '10.11', redis: '7', 'isp-park-sync': '0.1.0@abc' },
    results: ids.map(([id, value]) => makeResult({ id, unit: 'x', runs: [{ value }], note: '', command })),
  };
}

describe('bench record', () => {
  it('a full run replaces the record; a run of some groups replaces its figures and keeps the rest', () => {
    const full = mergeRecord(
      undefined,
      file('npm run bench', [
        ['a', 1],
        ['b', 2],
      ]),
      true,
    );
    expect(full.runs).toHaveLength(1);
    const some = mergeRecord(
      full,
      file('npm run bench -- --only photos --record', [
        ['b', 3],
        ['c', 4],
      ]),
      false,
    );
    expect(some.results.map((r) => [r.id, r.value, r.run])).toEqual([
      ['a', 1, 0],
      ['b', 3, 1],
      ['c', 4, 1],
    ]);
    expect(some.runs.map((r) => r.command)).toEqual([
      'npm run bench',
      'npm run bench -- --only photos --record',
    ]);
    // A run none of whose figures are left is dropped.
    const again = mergeRecord(
      some,
      file('npm run bench -- --only x --record', [
        ['a', 5],
        ['b', 6],
        ['c', 7],
      ]),
      false,
    );
    expect(again.runs.map((r) => r.command)).toEqual(['npm run bench -- --only x --record']);
    expect(again.results.every((r) => r.run === 0)).toBe(true);
    expect(recordMarkdown(some)).toContain('| run |');
    expect(recordMarkdown(full)).not.toContain('| run |');
  });

  it('replaces only the text between the markers, or appends them', () => {
    const doc = `# B\n\nbefore\n\n${RECORD_START}\n\nold\n\n${RECORD_END}\n\nafter\n`;
    expect(spliceRecord(doc, 'new')).toBe(
      `# B\n\nbefore\n\n${RECORD_START}\n\nnew\n\n${RECORD_END}\n\nafter\n`,
    );
    expect(spliceRecord('# B\n', 'new')).toBe(`# B\n\n${RECORD_START}\n\nnew\n\n${RECORD_END}\n`);
  });
});
