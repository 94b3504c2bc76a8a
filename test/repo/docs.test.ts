/**
 * The documents hold together inside the repository: every relative link in README.md,
 * CHANGELOG.md, CONTRIBUTING.md and docs/ names a file of the repository (and, into a Markdown
 * file, a heading it has); no link leaves the repository except to the web. And no tracked file
 * speaks of development history (issue numbers, sessions): that lives in commits and the changelog.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';

const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: PROJECT_ROOT,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f && existsSync(join(PROJECT_ROOT, f)));
const documents = tracked.filter((f) => /^(README|CHANGELOG|CONTRIBUTING)\.md$|^docs\/.*\.md$/.test(f));

/** GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of markdown.replace(/```[\s\S]*?```/g, '').split('\n')) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const slug = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

/** Markdown links `[text](target)` and reference definitions `[x]: target`, outside code. */
function links(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const inline = [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  const refs = [...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
  return [...inline, ...refs];
}

describe('documents', () => {
  it('are found', () => {
    expect(documents).toEqual(
      expect.arrayContaining([
        'README.md',
        'CHANGELOG.md',
        'CONTRIBUTING.md',
        'docs/deploy.md',
        'docs/operations.md',
        'docs/mapping.md',
        'docs/isp-interface.md',
        'docs/benchmarks.md',
        'docs/configuration.md',
      ]),
    );
  });

  it.each(documents)('%s: every relative link resolves inside the repository', (doc) => {
    const broken: string[] = [];
    for (const target of links(readFileSync(join(PROJECT_ROOT, doc), 'utf8'))) {
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [path = '', fragment] = target.split('#');
      const file = path ? resolve(PROJECT_ROOT, dirname(doc), decodeURI(path)) : join(PROJECT_ROOT, doc);
      const inside = relative(PROJECT_ROOT, file);
      if (inside.startsWith(`..${sep}`) || inside === '..') {
        broken.push(`${target}: outside the repository`);
        continue;
      }
      if (!existsSync(file)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (fragment && statSync(file).isFile() && file.endsWith('.md')) {
        if (!anchors(readFileSync(file, 'utf8')).has(fragment)) broken.push(`${target}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the link check can fail: a missing file, a missing heading and a path outside are caught', () => {
    expect(links('see [a](docs/nope.md), [b](deploy.md#nope) and [c](../../shared/spec/x.md)')).toEqual([
      'docs/nope.md',
      'deploy.md#nope',
      '../../shared/spec/x.md',
    ]);
    expect(anchors('## 2. A read-only database user\n## Open points, and what isp-park-sync does')).toEqual(
      new Set(['2-a-read-only-database-user', 'open-points-and-what-isp-park-sync-does']),
    );
  });
});

describe('the repository', () => {
  it('names no tracker numbers or development sessions (history is in commits and CHANGELOG.md)', () => {
    // Built from parts so that this file does not match itself.
    const history = new RegExp(
      [
        '\\bissues?\\s*#?\\d+',
        `\\bwork${' '}items?\\b`,
        `\\b(before|in|during) this${' '}session\\b`,
        `session's${' '}changes`,
      ].join('|'),
      'i',
    );
    const offenders = tracked
      .filter((f) => !/(^|\/)package-lock\.json$|\.(png|jpe?g|ico)$|^test\/repo\/schemas\//.test(f))
      .flatMap((f) =>
        readFileSync(join(PROJECT_ROOT, f), 'utf8')
          .split('\n')
          .map((line, i) => ({ f, i, line }))
          .filter(({ line }) => history.test(line))
          .map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });
});
