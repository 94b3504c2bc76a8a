/** EXPLAIN FORMAT=JSON read into table accesses: a derived table's parts and their pushed conditions. Pure. */
import { describe, expect, it } from 'vitest';
import { planTables } from '../../src/vendor-db/plan-json.js';

// MariaDB 10.11, `FROM (SELECT ... FROM visits_2025 UNION ALL SELECT ... FROM visits_2026) v WHERE v.in_time > ...`
// (shortened): the outer condition reached both parts.
const MARIADB = {
  query_block: {
    select_id: 1,
    nested_loop: [
      {
        read_sorted_file: {
          filesort: {
            sort_key: 'v.in_time, v.`id`',
            table: {
              table_name: '<derived2>',
              access_type: 'ALL',
              rows: 2723,
              attached_condition: "v.in_time > '2026-01-13 00:00:00'",
              materialized: {
                query_block: {
                  union_result: {
                    query_specifications: [
                      {
                        query_block: {
                          select_id: 2,
                          nested_loop: [
                            {
                              table: {
                                table_name: 'visits_2025',
                                access_type: 'range',
                                key: 'idx_in',
                                used_key_parts: ['in_time', 'id'],
                                rows: 2,
                                index_condition: "visits_2025.in_time > '2026-01-13 00:00:00'",
                              },
                            },
                          ],
                        },
                      },
                      {
                        query_block: {
                          select_id: 3,
                          operation: 'UNION',
                          nested_loop: [
                            {
                              table: {
                                table_name: 'visits_2026',
                                access_type: 'index',
                                key: 'PRIMARY',
                                rows: 19656,
                              },
                            },
                          ],
                        },
                      },
                    ],
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

describe('EXPLAIN FORMAT=JSON', () => {
  it('lists the derived table and each part with its select, access and conditions', () => {
    expect(planTables(MARIADB)).toEqual([
      {
        selectId: 1,
        table: '<derived2>',
        accessType: 'ALL',
        key: null,
        usedKeyParts: [],
        rows: 2723,
        conditions: ["v.in_time > '2026-01-13 00:00:00'"],
      },
      {
        selectId: 2,
        table: 'visits_2025',
        accessType: 'range',
        key: 'idx_in',
        usedKeyParts: ['in_time', 'id'],
        rows: 2,
        conditions: ["visits_2025.in_time > '2026-01-13 00:00:00'"],
        partOf: '<derived2>',
      },
      {
        selectId: 3,
        table: 'visits_2026',
        accessType: 'index',
        key: 'PRIMARY',
        usedKeyParts: [],
        rows: 19656,
        conditions: [],
        partOf: '<derived2>',
      },
    ]);
  });

  it("reads MySQL's materialized_from_subquery too", () => {
    const mysql = {
      query_block: {
        select_id: 1,
        table: {
          table_name: 'v',
          access_type: 'ALL',
          rows_examined_per_scan: 10,
          materialized_from_subquery: {
            query_block: {
              select_id: 2,
              table: { table_name: 't', access_type: 'range', key: 'i', attached_condition: '(t.a > 1)' },
            },
          },
        },
      },
    };
    expect(planTables(mysql).map((t) => [t.table, t.selectId, t.partOf, t.conditions.length])).toEqual([
      ['v', 1, undefined, 0],
      ['t', 2, 'v', 1],
    ]);
  });
});
