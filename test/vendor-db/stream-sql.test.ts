import { describe, expect, it } from 'vitest';
import { entrancesStreamSchema } from '../../src/config/index.js';
import { demoConfig } from '../../src/sim/demo-vendor/config.js';
import { judgePlan, type PlanFacts } from '../../src/vendor-db/explain.js';
import { columnRef, describeTables, tablesOf } from '../../src/vendor-db/from-clause.js';
import { writePrivilegesOn } from '../../src/vendor-db/grants.js';
import { buildEventPageQuery, buildPhotoQuery, buildSnapshotQuery } from '../../src/vendor-db/stream-sql.js';
import { vendorTimeOf, zoneOffset } from '../../src/vendor-db/zone.js';

const config = demoConfig('visit-table', 'mysql://u@h/db');
const bounds = { lagSeconds: 5, zoneOffset: '+08:00' };

describe('event page SQL', () => {
  const query = buildEventPageQuery(config.streams.entrances);

  it('uses the OR keyset predicate, orders by both columns, and never OFFSET or the row-value form', () => {
    const { sql, params } = query.statement({ time: '2026-03-01 08:00:00', id: '42' }, 1000, bounds);
    expect(sql).toContain('(in_time > ? OR (in_time = ? AND id > ?))');
    expect(sql).toMatch(/ORDER BY in_time, id LIMIT 1000$/);
    expect(sql).not.toMatch(/OFFSET|\(in_time, id\)\s*>/i);
    expect(params).toEqual(['2026-03-01 08:00:00', '2026-03-01 08:00:00', '42', '+08:00', 5]);
  });

  it('bounds every page by the server-side lag guard in the vendor zone, whatever the bounds', () => {
    for (const sql of Object.values(query.texts)) {
      expect(sql).toContain("in_time < CONVERT_TZ(UTC_TIMESTAMP(3), '+00:00', ?) - INTERVAL ? SECOND");
      expect(sql).not.toMatch(/NOW\(\)/);
    }
  });

  it('selects the canonical names, the cursor and the key as text, and no photo', () => {
    const { sql } = query.statement(null, 10, bounds);
    expect(sql).toMatch(/^SELECT CAST\(in_time AS CHAR\) AS cursorTime, CAST\(id AS CHAR\) AS vendorKey, /);
    expect(sql).toContain('in_plate AS `plateNumber`');
    expect(sql).not.toContain('in_pic');
    expect(sql).not.toContain('in_time > ?');
  });

  it('builds each text once and picks it by the bounds', () => {
    const from = query.statement(null, 10, {
      ...bounds,
      from: '2026-03-01 00:00:00',
      upTo: '2026-03-02 00:00:00',
    });
    expect(from.sql).toBe(`${query.texts['from/time']}10`);
    expect(from.params).toEqual(['2026-03-01 00:00:00', '+08:00', 5, '2026-03-02 00:00:00']);
    const window = query.statement({ time: 'a', id: '1' }, 10, { ...bounds, upTo: { time: 'b', id: '9' } });
    expect(window.sql).toBe(`${query.texts['after/cursor']}10`);
    expect(query.statement({ time: 'a', id: '1' }, 10, bounds).sql).toBe(
      query.statement({ time: 'c', id: '2' }, 10, bounds).sql,
    );
    expect(window.sql).toContain('(in_time < ? OR (in_time = ? AND id <= ?))');
    expect(window.params).toEqual(['a', 'a', '1', '+08:00', 5, 'b', 'b', '9']);
    expect(() => query.statement(null, 0, bounds)).toThrow(RangeError);
  });

  it('ANDs the configured WHERE and compares epoch columns with numbers', () => {
    const cfg = entrancesStreamSchema.parse({
      from: 'ev',
      where: 'kind = 1 OR kind = 2',
      cursor: { time: 'ts', id: 'id' },
      timeFormat: 'epoch-ms',
      columns: { parkCode: 'p', plateNumber: 'pl', enterTime: 'ts' },
    });
    const { sql, params } = buildEventPageQuery(cfg).statement(
      { time: '1772323200000', id: '7' },
      50,
      bounds,
    );
    expect(sql).toContain('WHERE (kind = 1 OR kind = 2) AND (ts > ? OR');
    expect(sql).toContain('ts < (UNIX_TIMESTAMP() + MICROSECOND(UTC_TIMESTAMP(6)) / 1000000 - ?) * 1000');
    expect(params).toEqual([1772323200000, 1772323200000, '7', 5]);
    expect(sql).toMatch(/LIMIT 50$/);
  });

  it('reads lots whole and photos by key', () => {
    expect(buildSnapshotQuery(config.streams.parks)).toBe(
      'SELECT CAST(park_no AS CHAR) AS vendorKey, park_no AS `parkCode`, park_name AS `parkName`, lng AS `longitude`, lat AS `latitude`, park_addr AS `address` FROM parkinfo',
    );
    expect(buildPhotoQuery(config.streams.departures, 3)).toBe(
      'SELECT CAST(id AS CHAR) AS vendorKey, out_pic AS photo FROM car_inout WHERE id IN (?, ?, ?)',
    );
  });
});

describe('vendor zone', () => {
  it('gives the offset and writes Unix seconds as the column stores time', () => {
    expect(zoneOffset('Asia/Shanghai')).toBe('+08:00');
    expect(zoneOffset('America/New_York', new Date('2026-01-15T12:00:00Z'))).toBe('-05:00');
    expect(zoneOffset('America/New_York', new Date('2026-07-15T12:00:00Z'))).toBe('-04:00');
    expect(vendorTimeOf(1772323200, 'datetime', 'Asia/Shanghai')).toBe('2026-03-01 08:00:00');
    expect(vendorTimeOf(1772323200, 'epoch-s', 'Asia/Shanghai')).toBe(1772323200);
    expect(vendorTimeOf(1772323200, 'epoch-ms', 'Asia/Shanghai')).toBe(1772323200000);
  });

  it('keeps a bound’s fraction: milliseconds in text, rounded up for whole-second epochs', () => {
    // For an integer column value t, `t < x` and `t >= x` select what they select with ⌈x⌉.
    expect(vendorTimeOf(1772323200.25, 'datetime', 'Asia/Shanghai')).toBe('2026-03-01 08:00:00.250');
    expect(vendorTimeOf(1772323200.25, 'epoch-s', 'Asia/Shanghai')).toBe(1772323201);
    expect(vendorTimeOf(1772323200.25, 'epoch-ms', 'Asia/Shanghai')).toBe(1772323200250);
    // Float noise from the server's decimal seconds does not move a bound by a millisecond.
    expect(vendorTimeOf(1795917468.974, 'epoch-ms', 'UTC')).toBe(1795917468974);
    expect(vendorTimeOf(1795917468.974, 'datetime', 'UTC')).toBe('2026-11-29 01:57:48.974');
  });
});

describe('FROM clause', () => {
  it('names tables and aliases of joins', () => {
    const from = config.streams.departures.from;
    expect(tablesOf(from)).toEqual([{ table: 'car_inout', alias: 'car_inout' }]);
    const joined = demoConfig('entry-exit', 'mysql://u@h/db').streams.departures.from;
    expect(tablesOf(joined)).toEqual([
      { table: 't_exit', alias: 'x' },
      { table: 't_entry', alias: 'e' },
      { table: 't_car_type', alias: 'ct' },
    ]);
    expect(tablesOf('`db`.`a` AS aa INNER JOIN b USING (id), c')).toEqual([
      { table: 'a', alias: 'aa' },
      { table: 'b', alias: 'b' },
      { table: 'c', alias: 'c' },
    ]);
    expect(describeTables(joined, 'x')).toBe('t_exit');
    expect(describeTables(joined, undefined)).toBe('t_exit, t_entry, t_car_type');
  });

  it('tells plain columns from expressions', () => {
    expect(columnRef('x.exit_time')).toEqual({ qualifier: 'x', column: 'exit_time' });
    expect(columnRef('`in_time`')).toEqual({ column: 'in_time' });
    expect(columnRef('COALESCE(NULLIF(out_plate, ""), in_plate)')).toBeUndefined();
  });
});

describe('grants', () => {
  it('finds write privileges on the vendor database only', () => {
    expect(writePrivilegesOn(['GRANT SELECT ON `parking`.* TO `ro`@`%`'], 'parking')).toEqual([]);
    expect(writePrivilegesOn(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost`'], 'parking')).toEqual([
      'ALL',
    ]);
    expect(
      writePrivilegesOn(
        ['GRANT SELECT, INSERT, UPDATE (used_num) ON `parking`.`parkinfo` TO `app`@`%`'],
        'parking',
      ),
    ).toEqual(['INSERT', 'UPDATE']);
    expect(writePrivilegesOn(['GRANT DELETE ON `other`.* TO `app`@`%`'], 'parking')).toEqual([]);
    expect(writePrivilegesOn(['GRANT INSERT ON `park\\_%`.* TO `app`@`%`'], 'park_01')).toEqual(['INSERT']);
    expect(writePrivilegesOn(['GRANT INSERT ON `park\\_%`.* TO `app`@`%`'], 'parkx01')).toEqual([]);
    expect(
      writePrivilegesOn(['GRANT `vendor_rw` TO `app`@`%`', 'GRANT USAGE ON *.* TO `app`@`%`'], 'p'),
    ).toEqual([]);
  });
});

describe('plan verdict', () => {
  const facts: PlanFacts = {
    plan: {
      id: 1,
      select_type: 'SIMPLE',
      table: 'car_inout',
      type: 'range',
      possible_keys: 'idx_out_time',
      key: 'idx_out_time',
      rows: 100,
      Extra: null,
    },
    tableRows: 1_000_000,
    timeIndex: { name: 'idx_out_time', columns: ['out_time', 'id'] },
    cursorTable: 'car_inout',
    timeColumn: 'out_time',
    idColumn: 'id',
    primary: ['id'],
    bigTableRows: 10_000,
  };

  it('accepts a range on the cursor index', () => {
    expect(judgePlan(facts)).toEqual({ verdict: 'ok', reasons: [], advice: undefined });
    // InnoDB appends the primary key: (out_time) alone serves (out_time, id).
    expect(judgePlan({ ...facts, timeIndex: { name: 'i', columns: ['out_time'] } }).verdict).toBe('ok');
  });

  it('fails a full scan or a missing index, and says which index to ask for', () => {
    const noIndex = judgePlan({
      ...facts,
      timeIndex: null,
      plan: { ...facts.plan!, type: 'ALL', key: null },
    });
    expect(noIndex.verdict).toBe('fail');
    expect(noIndex.reasons.join()).toMatch(/no index of car_inout starts with .*out_time/);
    expect(noIndex.advice).toContain('CREATE INDEX idx_out_time_id ON car_inout (out_time, id)');
    expect(judgePlan({ ...facts, plan: { ...facts.plan!, type: 'ALL' } }).verdict).toBe('fail');
  });

  it('fails a full index scan on a big table, only warns on a small one', () => {
    const indexScan = { ...facts, plan: { ...facts.plan!, type: 'index' } };
    expect(judgePlan(indexScan).verdict).toBe('fail');
    expect(judgePlan({ ...indexScan, tableRows: 500 }).verdict).toBe('warn');
  });
});
