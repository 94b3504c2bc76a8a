/**
 * The read-only vendor pool: sessions refuse writes, a locked table cannot hang a read, the pool
 * survives connections killed under it, and GBK columns come back as the right characters.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/sim/demo-vendor/config.js';
import { createDemoSchema } from '../../src/sim/demo-vendor/schema.js';
import { VendorQueryError, VendorTimeoutError, VendorUnavailableError } from '../../src/vendor-db/errors.js';
import { readEventPage, readVendorNow } from '../../src/vendor-db/events.js';
import { createVendorPool } from '../../src/vendor-db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await createDemoSchema(db.url, 'entry-exit');
  await db.admin.query(
    `INSERT INTO t_entry (entry_id, park_code, plate_no, entry_time, car_type_id, brand) VALUES
       (1, 'ATXL/1', '京AD12345', '2026-03-01 08:00:00', 3, '比亚迪'),
       (2, 'ATXL/1', '鲁A1234警', '2026-03-01 08:00:01', 4, '大众'),
       (3, 'ATXL/1', '无牌车', '2026-03-01 08:00:02', 6, '')`,
  );
});

afterAll(async () => {
  await db?.drop();
});

/** A TCP hop in front of MariaDB that can go down like a restarting server, and come back. */
async function flakyProxy(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = tcpConnect(Number(target.port || 3306), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  };
  await listen();
  return {
    url: () => {
      const url = new URL(target.toString());
      url.host = `127.0.0.1:${port}`;
      return url.toString();
    },
    async down() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server!.close(resolve));
    },
    up: listen,
  };
}

describe('vendor pool', () => {
  it('runs every session READ ONLY', async () => {
    const config = demoConfig('entry-exit', db.url);
    const pool = createVendorPool(config.vendor, { source: config.source.name });
    try {
      const error = await pool
        .query("INSERT INTO t_car_type (type_id, type_name) VALUES (99, 'x')", [], 'write attempt')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VendorQueryError);
      expect((error as VendorQueryError).code).toBe('ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION');
      const [{ ro, mst }] = (await pool.query<{ ro: number; mst: number }>(
        'SELECT @@session.tx_read_only AS ro, @@session.max_statement_time AS mst',
        [],
        'session',
      )) as [{ ro: number; mst: number }];
      expect(Number(ro)).toBe(1);
      expect(Number(mst)).toBe(config.vendor.queryTimeoutMs / 1000);
      const [count] = await db.admin.query<mysql.RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM t_car_type WHERE type_id = 99',
      );
      expect(Number(count[0]!.n)).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('gives up on a locked table after the query timeout, then reads again', async () => {
    const config = demoConfig('entry-exit', db.url, { vendor: { queryTimeoutMs: 1500 } });
    const pool = createVendorPool(config.vendor, { source: config.source.name });
    const locker = await mysql.createConnection({ uri: db.url });
    try {
      await locker.query('LOCK TABLES t_entry WRITE');
      const started = Date.now();
      const error = await readEventPage(
        pool,
        'entrances',
        config.streams.entrances,
        config.vendor,
        null,
      ).catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(error).toBeInstanceOf(VendorTimeoutError);
      expect((error as Error).message).toMatch(/did not finish within 1500 ms/);
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(15_000);
      await locker.query('UNLOCK TABLES');
      const page = await readEventPage(pool, 'entrances', config.streams.entrances, config.vendor, null);
      expect(page.rows).toHaveLength(3);
    } finally {
      await locker.end();
      await pool.close();
    }
  });

  it('survives its connections being killed (as in a server restart)', async () => {
    const config = demoConfig('entry-exit', db.url, { vendor: { connectionLimit: 2 } });
    const pool = createVendorPool(config.vendor, { source: config.source.name });
    try {
      const read = () => readEventPage(pool, 'entrances', config.streams.entrances, config.vendor, null);
      await Promise.all([read(), read()]);
      const [[{ self }]] = (await db.admin.query('SELECT CONNECTION_ID() AS self')) as unknown as [
        [{ self: number }],
      ];
      const [ours] = await db.admin.query<mysql.RowDataPacket[]>(
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> ?',
        [db.name, self],
      );
      expect(ours.length).toBeGreaterThanOrEqual(1);
      for (const { id } of ours) await db.admin.query(`KILL CONNECTION ${Number(id)}`);
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 4; i++) expect((await read()).rows).toHaveLength(3);
    } finally {
      await pool.close();
    }
  });

  it('survives a server going away and coming back (a restart)', async () => {
    const proxy = await flakyProxy(new URL(db.url));
    const config = demoConfig('entry-exit', proxy.url(), {
      vendor: { connectionLimit: 2, queryTimeoutMs: 3000 },
    });
    const pool = createVendorPool(config.vendor, { source: config.source.name });
    const read = () => readEventPage(pool, 'entrances', config.streams.entrances, config.vendor, null);
    try {
      expect((await read()).rows).toHaveLength(3);
      await proxy.down();
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VendorUnavailableError);
      expect((error as Error).message).toMatch(/unavailable: .*will retry/);
      await proxy.up();
      expect((await read()).rows).toHaveLength(3);
      expect((await read()).rows).toHaveLength(3);
    } finally {
      await pool.close();
      await proxy.down().catch(() => undefined);
    }
  });

  it("tells the server's Unix time whatever its session zone", async () => {
    const config = demoConfig('entry-exit', db.url, { vendor: { sessionTimeZone: '+08:00' } });
    const pool = createVendorPool(config.vendor, { source: config.source.name });
    try {
      const [[{ t }]] = (await db.admin.query('SELECT UNIX_TIMESTAMP() AS t')) as unknown as [
        [{ t: string }],
      ];
      const now = await readVendorNow(pool);
      expect(Math.abs(now - Number(t))).toBeLessThanOrEqual(2);
      expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(60);
    } finally {
      await pool.close();
    }
  });

  for (const charset of ['utf8mb4', 'gbk']) {
    it(`reads GBK plate columns over a ${charset} connection`, async () => {
      const config = demoConfig('entry-exit', db.url, { vendor: { charset } });
      const pool = createVendorPool(config.vendor, { source: config.source.name });
      try {
        const page = await readEventPage(pool, 'entrances', config.streams.entrances, config.vendor, null);
        expect(page.rows.map((r) => [r.plateNumber, r.carType, r.carLogo])).toEqual([
          ['京AD12345', '新能源小型车', '比亚迪'],
          ['鲁A1234警', '警车', '大众'],
          ['无牌车', '无牌车', ''],
        ]);
        // A GBK column compares with a UTF-8 parameter too.
        const found = await pool.query<{ id: string }>(
          'SELECT CAST(entry_id AS CHAR) AS id FROM t_entry WHERE plate_no = ?',
          ['鲁A1234警'],
          'plate',
        );
        expect(found).toEqual([{ id: '2' }]);
      } finally {
        await pool.close();
      }
    });
  }
});
