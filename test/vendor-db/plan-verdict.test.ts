/** The verdict on a stream's plan when every EXPLAIN row is judged: derived tables' parts, joined tables. Pure. */
import { describe, expect, it } from 'vitest';
import { judgePlan, type PartFacts, type PlanFacts, type PlanRow } from '../../src/vendor-db/plan-verdict.js';

const row = (over: Partial<PlanRow>): PlanRow => ({
  id: 1,
  select_type: 'SIMPLE',
  table: null,
  type: 'range',
  possible_keys: null,
  key: null,
  rows: 10,
  Extra: null,
  ...over,
});

const derivedRow = row({
  select_type: 'PRIMARY',
  table: '<derived2>',
  type: 'ALL',
  rows: 300,
  Extra: 'Using where; Using filesort',
});

function part(table: string, id: number, over: Partial<PartFacts> = {}): PartFacts {
  return {
    plan: row({ id, select_type: id === 2 ? 'DERIVED' : 'UNION', table, type: 'range', key: 'idx_in_time' }),
    tableRows: 1_000_000,
    timeIndex: { name: 'idx_in_time', columns: ['in_time', 'id'] },
    cursorTable: table,
    timeColumn: 'in_time',
    idColumn: 'id',
    primary: ['id'],
    timeExpr: 'in_time',
    pushed: true,
    ...over,
  };
}

function facts(parts: PartFacts[], extra: PlanRow[] = []): PlanFacts {
  return {
    plan: derivedRow,
    tableRows: null,
    timeIndex: null,
    cursorTable: undefined,
    timeColumn: 'in_time',
    idColumn: 'id',
    primary: [],
    bigTableRows: 10_000,
    rows: [derivedRow, ...parts.map((p) => p.plan!), ...extra],
    derived: { table: '<derived2>', unionDistinct: false, parts },
  };
}

describe('a cursor in a derived table', () => {
  it("accepts the derived table's full scan when every part is a range on its cursor index", () => {
    const verdict = judgePlan(facts([part('visits_2025', 2), part('visits_2026', 3)]));
    expect(verdict.verdict).toBe('ok');
    expect(verdict.parts?.map((p) => [p.table, p.verdict])).toEqual([
      ['visits_2025', 'ok'],
      ['visits_2026', 'ok'],
    ]);
  });

  it('fails a part scanned whole, naming its table', () => {
    const scanned = part('visits_2026', 3, {
      timeIndex: null,
      plan: row({ id: 3, select_type: 'UNION', table: 'visits_2026', type: 'ALL' }),
    });
    const verdict = judgePlan(facts([part('visits_2025', 2), scanned]));
    expect(verdict.verdict).toBe('fail');
    expect(verdict.reasons[0]).toMatch(
      /^part visits_2026: no index of visits_2026 starts with the cursor time column in_time/,
    );
    expect(verdict.advice).toBe(
      "ask the vendor's DBA for: CREATE INDEX idx_in_time_id ON visits_2026 (in_time, id)",
    );
  });

  it('fails a part the cursor condition did not reach, with what stops it', () => {
    const blocked = part('visits_2026', 3, {
      pushed: false,
      blocker: "the server's optimizer_switch has condition_pushdown_for_derived=off",
      plan: row({ id: 3, select_type: 'UNION', table: 'visits_2026', type: 'index', key: 'PRIMARY' }),
    });
    const verdict = judgePlan(facts([part('visits_2025', 2), blocked]));
    expect(verdict.verdict).toBe('fail');
    expect(verdict.reasons.join()).toContain(
      'part visits_2026: the cursor condition is not pushed into this part',
    );
    expect(verdict.advice).toContain('condition_pushdown_for_derived=off');
  });

  it('fails a part whose cursor time is an expression the pushed condition cannot use an index for', () => {
    const expression = part('visits_2026', 3, {
      timeColumn: undefined,
      timeIndex: null,
      timeExpr: "DATE_FORMAT(in_time, '%Y-%m-%d %H:%i:%s')",
      plan: row({ id: 3, select_type: 'UNION', table: 'visits_2026', type: 'ALL' }),
    });
    const verdict = judgePlan(facts([part('visits_2025', 2), expression]));
    expect(verdict.verdict).toBe('fail');
    expect(verdict.reasons.join()).toContain('gives the cursor time as an expression (DATE_FORMAT(');
    expect(verdict.advice).toContain('select the indexed time column of visits_2026 itself');
  });

  it('warns on UNION without ALL', () => {
    const f = facts([part('a', 2), part('b', 3)]);
    const verdict = judgePlan({ ...f, derived: { ...f.derived!, unionDistinct: true } });
    expect(verdict.verdict).toBe('warn');
    expect(verdict.reasons.join()).toContain('write UNION ALL');
  });
});

describe('every other row', () => {
  const base: PlanFacts = {
    plan: row({ table: 'x', key: 'idx_exit_time' }),
    tableRows: 1_000_000,
    timeIndex: { name: 'idx_exit_time', columns: ['exit_time', 'exit_id'] },
    cursorTable: 't_exit',
    timeColumn: 'exit_time',
    idColumn: 'exit_id',
    primary: ['exit_id'],
    bigTableRows: 10_000,
  };

  it('fails a big joined table scanned whole on every page, and lets a small lookup table pass', () => {
    const joined = row({ table: 'e', type: 'ALL' });
    const lookup = row({ table: 'ct', type: 'ALL' });
    const rows = [base.plan!, joined, lookup];
    const big = judgePlan({ ...base, rows, sizes: { e: 2_000_000, ct: 9 } });
    expect(big.verdict).toBe('fail');
    expect(big.reasons).toEqual([
      'EXPLAIN: full table scan of e (~2000000 rows) on every page: index the column it is joined on',
    ]);
    expect(judgePlan({ ...base, rows, sizes: { e: 500, ct: 9 } }).verdict).toBe('ok');
    // Only the first row judged (as before) would have passed this plan.
    expect(judgePlan({ ...base, rows: [base.plan!] }).verdict).toBe('ok');
  });
});
