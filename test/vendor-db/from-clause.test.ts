/** The light reading of a FROM clause: joins, and a derived table read part by part. Pure. */
import { describe, expect, it } from 'vitest';
import {
  describeTables,
  maskNested,
  partSources,
  tableFor,
  tablesOf,
} from '../../src/vendor-db/from-clause.js';

const UNION =
  "(SELECT id, park_no, in_time, COALESCE(out_time, '1970-01-01') AS out_t FROM visits_2025 WHERE park_no <> 'X, Y' " +
  'UNION ALL (SELECT b.id, b.park_no, b.in_time, b.out_time FROM visits_2026 b JOIN lots l ON l.code = b.park_no)) AS v ' +
  'LEFT JOIN t_car_type ct ON ct.type_id = v.id';

describe('FROM clause with a derived table', () => {
  it('does not split inside parentheses or quotes', () => {
    expect(maskNested("a (b, c) 'd, e' f")).toBe("a (____) '____' f");
  });

  it('reads the derived table, its alias and parts, and the joins after it', () => {
    const tables = tablesOf(UNION);
    expect(tables.map((t) => [t.table, t.alias])).toEqual([
      ['(visits_2025 UNION ALL visits_2026)', 'v'],
      ['t_car_type', 'ct'],
    ]);
    const derived = tables[0]!.derived!;
    expect(derived.names).toEqual(['id', 'park_no', 'in_time', 'out_t']);
    expect(derived.distinct).toBe(false);
    expect(derived.parts.map((p) => p.from)).toEqual([
      'visits_2025',
      'visits_2026 b JOIN lots l ON l.code = b.park_no',
    ]);
    expect(tableFor(UNION, 'v')?.alias).toBe('v');
    expect(describeTables(UNION, 'v')).toBe('(visits_2025 UNION ALL visits_2026)');
  });

  it('says where each column of the derived table comes from in each part', () => {
    const derived = tablesOf(UNION)[0]!.derived!;
    expect(partSources(derived, 'in_time')).toEqual([
      { table: 'visits_2025', column: 'in_time', expr: 'in_time' },
      { table: 'visits_2026', column: 'in_time', expr: 'b.in_time' },
    ]);
    // An expression has no plain column: the pushed condition cannot use an index there.
    expect(partSources(derived, 'out_t')?.[0]).toEqual({
      table: 'visits_2025',
      expr: "COALESCE(out_time, '1970-01-01')",
    });
    expect(partSources(derived, 'nope')).toBeUndefined();
  });

  it('tells UNION from UNION ALL', () => {
    const [t] = tablesOf('(SELECT id FROM a UNION SELECT id FROM b) x');
    expect(t?.derived?.distinct).toBe(true);
    expect(t?.table).toBe('(a UNION b)');
  });
});
