/**
 * `init` on real MariaDB: on both demo schemas the draft it writes passes `check` and `dry-run`
 * with only dictionary entries left to confirm; on a schema no test or preset knows (pinyin names,
 * one visit table, DECIMAL yuan, photo URLs) it finds the tables, columns and formats, and the
 * draft passes `check`. The vendor user is SELECT-only, as in a deployment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CONFIRM } from '../../src/cli/init/render.js';
import { runInit } from '../../src/cli/init.js';
import { createDemoSchema, type DemoStyleName, seedDemo } from '../../src/sim/demo-vendor/index.js';
import {
  createTestDatabase,
  createTestRedis,
  type TestDatabase,
  type TestRedis,
} from '../helpers/services.js';

const dir = mkdtempSync(join(tmpdir(), 'ips-init-'));
let db: TestDatabase | undefined;
let redis: TestRedis | undefined;
const users: string[] = [];

afterEach(async () => {
  for (const user of users.splice(0))
    await db?.admin.query(`DROP USER IF EXISTS ${user}`).catch(() => undefined);
  await db?.drop();
  await redis?.cleanup();
  db = undefined;
  redis = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A SELECT-only user on the test database, as the sync gets in a deployment. */
async function readOnlyUrl(d: TestDatabase): Promise<string> {
  const name = `ipsinit_${d.name.slice(-8)}`;
  users.push(`'${name}'@'%'`);
  await d.admin.query(`CREATE USER '${name}'@'%' IDENTIFIED BY 'init-pw'`);
  await d.admin.query(`GRANT SELECT ON \`${d.name}\`.* TO '${name}'@'%'`);
  const url = new URL(d.url);
  url.username = name;
  url.password = 'init-pw';
  return url.toString();
}

/** `# TODO confirm` lines outside the dictionaries section. */
function questionsOutsideDictionaries(text: string): string[] {
  const head = text.slice(0, text.indexOf('\ndictionaries:'));
  return head.split('\n').filter((l) => l.includes(CONFIRM));
}

describe.each(['visit-table', 'entry-exit'] as DemoStyleName[])('init on the %s demo schema', (style) => {
  it('drafts a mapping that passes check and dry-run, with only dictionaries to confirm', async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    const photoDir = mkdtempSync(join(dir, 'photos-'));
    await createDemoSchema(db.url, style);
    await seedDemo(db.url, style, { visits: 1500, lots: 5, photoRows: 40, days: 2, photoDir });
    const lines: string[] = [];
    const result = await runInit(
      {
        vendorUrl: await readOnlyUrl(db),
        out: join(dir, `${style}.yaml`),
        overrides: { redis: { url: redis.url, prefix: redis.prefix }, photo: { fileRoot: photoDir } },
      },
      (line) => lines.push(line),
    );
    const output = lines.join('\n');
    expect(result.checkPassed, output).toBe(true);
    expect(output).not.toContain('init-pw');
    expect(result.text).not.toContain('init-pw');
    expect(questionsOutsideDictionaries(result.text)).toEqual([]);
    const byStream = Object.fromEntries(result.dryRuns.map((r) => [r.stream, r]));
    for (const stream of ['parks', 'spotNums', 'entrances'] as const) {
      expect(byStream[stream]?.error, stream).toBeUndefined();
      expect(byStream[stream]?.rows, stream).toBeGreaterThan(0);
      expect(byStream[stream]?.quarantine, stream).toEqual([]);
    }
    expect(byStream.parks?.payloads).toBe(5);
    expect(byStream.departures?.error).toBeUndefined();
    if (style === 'visit-table') {
      expect(result.draft.streams.entrances?.from.value).toBe('car_inout');
      expect(result.draft.streams.departures?.settings.moneyUnit?.value).toBe('fen');
      expect(result.draft.streams.entrances?.photo?.source.value).toBe('blob');
    } else {
      expect(result.draft.streams.entrances?.from.value).toBe('t_entry');
      expect(result.draft.streams.departures?.from.value).toBe('t_exit');
      expect(result.draft.streams.parks?.columns.parkCode?.value).toBe('code');
      expect(result.draft.streams.parks?.settings.coordinateSystem?.value).toBe('BD09');
      expect(result.draft.streams.departures?.settings.moneyUnit?.value).toBe('yuan');
      expect(result.draft.streams.entrances?.photo?.source.value).toBe('file');
      // Car types are ids into t_car_type: drafted from its names, to confirm.
      expect(result.text).toMatch(
        /"4": "3" {2}# TODO confirm: t_car_type.type_name says 4 = 警车 -> 3 警用车/,
      );
    }
  }, 90_000);
});

describe('init on a schema it has never seen', () => {
  it('finds the lots and one visit table with pinyin names, yuan fees and photo URLs, and the draft passes check', async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    await db.admin.query(`
      CREATE TABLE tcc_xx (
        id INT PRIMARY KEY AUTO_INCREMENT, tccbh VARCHAR(20) NOT NULL COMMENT '停车场编号',
        tccmc VARCHAR(50) COMMENT '停车场名称', dz VARCHAR(100), jd DECIMAL(10,6) COMMENT '经度(GCJ02)',
        wd DECIMAL(10,6) COMMENT '纬度(GCJ02)', zcw INT COMMENT '总车位', sycw INT COMMENT '剩余车位',
        UNIQUE KEY uk_tccbh (tccbh)) COMMENT='停车场信息';
      CREATE TABLE tcc_jcjl (
        id BIGINT PRIMARY KEY AUTO_INCREMENT, tccbh VARCHAR(20) NOT NULL, cph VARCHAR(16) COMMENT '车牌号',
        rcsj DATETIME COMMENT '入场时间', ccsj DATETIME NULL COMMENT '出场时间', cllx VARCHAR(10) COMMENT '车辆类型',
        ysje DECIMAL(8,2) COMMENT '应收金额(元)', ssje DECIMAL(8,2) COMMENT '实收金额(元)', zffs VARCHAR(10) COMMENT '支付方式',
        zfsj DATETIME NULL, rczp VARCHAR(255) COMMENT '入场照片', cczp VARCHAR(255) COMMENT '出场照片',
        KEY idx_rcsj (rcsj, id), KEY idx_ccsj (ccsj, id)) COMMENT='进出记录';
      INSERT INTO tcc_xx (tccbh, tccmc, dz, jd, wd, zcw, sycw) VALUES
        ('P001', '东门停车场', '东大街1号', 118.796877, 32.060255, 200, 120),
        ('P002', '西门停车场', '西大街2号', 118.776877, 32.050255, 80, 10);`);
    // 120 visits over the last two hours, every fourth car still inside.
    const kinds = ['小型车', '小型车', '小型车', '大型车', '新能源', '特种车'];
    const pays = ['微信', '支付宝', '现金', '数字人民币'];
    const rows: string[] = [];
    for (let i = 0; i < 120; i++) {
      const inside = i % 4 === 0;
      const enter = `NOW() - INTERVAL ${7200 - i * 50} SECOND`;
      const out = inside ? 'NULL' : `NOW() - INTERVAL ${7200 - i * 50 - 1200} SECOND`;
      rows.push(
        `('P00${(i % 2) + 1}', '苏A${String(10000 + i)}', ${enter}, ${out}, '${kinds[i % kinds.length]}', ` +
          `${inside ? 'NULL' : '8.50'}, ${inside ? 'NULL' : '8.50'}, ${inside ? 'NULL' : `'${pays[i % pays.length]}'`}, ${out}, ` +
          `'https://pics.example.cn/in/${i}.jpg', ${inside ? 'NULL' : `'https://pics.example.cn/out/${i}.jpg'`})`,
      );
    }
    await db.admin.query(
      `INSERT INTO tcc_jcjl (tccbh, cph, rcsj, ccsj, cllx, ysje, ssje, zffs, zfsj, rczp, cczp) VALUES ${rows.join(',')}`,
    );
    await db.admin.query('ANALYZE TABLE tcc_xx, tcc_jcjl');
    const lines: string[] = [];
    const result = await runInit(
      {
        vendorUrl: await readOnlyUrl(db),
        out: join(dir, 'pinyin.yaml'),
        overrides: { redis: { url: redis.url, prefix: redis.prefix } },
      },
      (line) => lines.push(line),
    );
    const { streams, dictionaries } = result.draft;
    expect(streams.parks?.from.value).toBe('tcc_xx');
    expect(streams.parks?.columns).toMatchObject({
      parkCode: { value: 'tccbh' },
      parkName: { value: 'tccmc' },
      longitude: { value: 'jd' },
      latitude: { value: 'wd' },
      address: { value: 'dz' },
    });
    expect(streams.parks?.settings.coordinateSystem?.value).toBe('GCJ02');
    expect(streams.spotNums?.columns).toMatchObject({ total: { value: 'zcw' }, remain: { value: 'sycw' } });
    expect(streams.entrances?.from.value).toBe('tcc_jcjl');
    expect(streams.entrances?.cursor?.time.value).toBe('rcsj');
    expect(streams.entrances?.cursor?.time.why).toBe('index idx_rcsj (rcsj, id) serves the keyset cursor');
    expect(streams.entrances?.columns.plateNumber?.value).toBe('cph');
    expect(streams.departures?.cursor?.time.value).toBe('ccsj');
    expect(streams.departures?.columns).toMatchObject({
      enterTime: { value: 'rcsj' },
      payableFee: { value: 'ysje' },
      paidFee: { value: 'ssje' },
      payType: { value: 'zffs' },
      payTime: { value: 'zfsj' },
      carType: { value: 'cllx' },
    });
    expect(streams.departures?.settings.moneyUnit).toMatchObject({ value: 'yuan' });
    expect(streams.departures?.settings.moneyUnit?.why).toContain('decimal(8,2)');
    expect(streams.entrances?.photo?.source).toMatchObject({
      value: 'url',
      why: '120/120 samples are http(s) URLs',
    });
    expect(result.draft.photo?.urlAllowHosts?.value).toBe('["pics.example.cn"]');
    // Dictionaries: 新能源 already in the defaults, 特种车 and 数字人民币 left to the operator with their counts.
    expect(dictionaries.carType.entries.find((e) => e.value === '新能源')).toMatchObject({
      code: '6',
      known: true,
    });
    expect(dictionaries.carType.entries.find((e) => e.value === '特种车')).toMatchObject({ count: 20 });
    expect(dictionaries.carType.entries.find((e) => e.value === '特种车')?.code).toBeUndefined();
    expect(result.text).toContain('# TODO confirm: "数字人民币" (30/120 rows): no guess');
    expect(result.checkPassed, lines.join('\n')).toBe(true);
  }, 90_000);
});
