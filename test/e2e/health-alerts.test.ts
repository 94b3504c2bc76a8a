/**
 * Lot health alerts through the whole product: a demo vendor database (real MariaDB) whose clock
 * runs 10 minutes fast and whose rows for one lot carry a negative fee, the ISP simulator, the
 * worker with every role (the alerts' job scheduler included), and a real HTTP webhook in WeCom's
 * shape. The clock and the quarantined departures fire their alerts, good traffic and a worker
 * restarted against a right clock clear them, and the webhook gets each notification exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningWorkers, startWorkers } from '../../jobs/workers.js';
import { silentLogger } from '../../src/log.js';
import { createRuntime } from '../../src/pipeline/runtime.js';
import { collectStatus } from '../../src/pipeline/status.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

let harness: Harness | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await harness?.close();
  await receiver?.close();
  harness = undefined;
  receiver = undefined;
});

describe('lot health alerts, end to end', () => {
  it('fire from vendor traffic, clear, and reach a WeCom-shaped webhook exactly once each', async () => {
    receiver = await startWebhookReceiver();
    const hook = receiver;
    harness = await startHarness({
      style: 'visit-table',
      seed: { lots: 2, visits: 0, photos: false },
      config: {
        streams: { entrances: { photo: null }, departures: { photo: null } },
        alerts: {
          evaluateEveryMs: 300,
          undelivered: { minEvents: 10 },
          webhook: { url: `${hook.url}/cgi-bin/webhook/send?key=e2e-robot-key`, preset: 'wecom' },
        },
      },
      vendorInitSql: ['SET @@timestamp = UNIX_TIMESTAMP() + 600'],
    });
    const h = harness;
    await h.start();
    const [[lot]] = (await h.db.admin.query(
      'SELECT park_no FROM parkinfo ORDER BY park_no LIMIT 1',
    )) as unknown as [Array<{ park_no: string }>];
    const code = lot!.park_no;
    // Stamped by the vendor's clock (10 min ahead of this host's), a few seconds back from its now.
    const stamp = (ago: number) =>
      `CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+08:00') + INTERVAL ${600 - ago} SECOND`;
    // One statement per batch of visits: they commit, and are read, together (inserted one by one,
    // an evaluation between two of them would see 5 of 10 events fail instead of 6 of 12).
    const visits = async (n: number, fee: number) => {
      const rows = Array.from({ length: n }, (_, i) => [
        code,
        `鲁H${fee < 0 ? 'N' : 'G'}${String(i).padStart(4, '0')}`,
        fee,
        Math.max(fee, 0),
      ]);
      await h.db.admin.query(
        `INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind, should_pay, real_pay) VALUES ${rows
          .map(() => `(?, ?, ${stamp(9)}, ${stamp(6)}, '小型车', ?, ?)`)
          .join(', ')}`,
        rows.flat(),
      );
    };
    // Six visits whose departures carry a negative fee: 6 entrances delivered, 6 departures quarantined.
    await visits(6, -500);

    const contents = () => hook.received.map((m) => (m.body as { text: { content: string } }).text.content);
    const has = (text: string) => contents().some((c) => c.includes(text));
    await waitFor(
      'both alerts fired at the webhook',
      () => has('FIRING vendor-clock-skew') && has(`FIRING undelivered-lot, lot ${code}`),
    );
    for (const m of hook.received) {
      expect(m.url).toBe('/cgi-bin/webhook/send?key=e2e-robot-key');
      expect(m.body.msgtype).toBe('text');
    }
    expect(contents().find((c) => c.includes('vendor-clock-skew'))).toMatch(
      /^isp-park-sync: FIRING vendor-clock-skew \(.+\)\nthe vendor database's clock is (9 min 5\d s|10 min( \d s)?) ahead of this host's/,
    );
    expect(contents().find((c) => c.includes('undelivered-lot'))).toContain(
      `6 of lot ${code}'s 12 events in the last one to two hours were not delivered: 6 quarantined`,
    );
    const status = await collectStatus(h.rt);
    expect(status.healthAlerts.map((a) => a.alert).sort()).toEqual(['undelivered-lot', 'vendor-clock-skew']);

    // Good traffic of the lot: 20 more events delivered, the share falls under half.
    await visits(10, 800);
    await waitFor('the lot’s alert cleared', () => has(`CLEARED undelivered-lot, lot ${code}`));

    // The worker restarted against the vendor's clock set right: the skew clears, nothing fires again.
    await h.stopWorkers();
    const rt = createRuntime(h.config, { logger: silentLogger });
    let workers: RunningWorkers | undefined;
    try {
      workers = await startWorkers(rt, new Set(['scheduler', 'poller', 'pusher']));
      await waitFor('the clock alert cleared', () => has('CLEARED vendor-clock-skew'));
      // A few more evaluations: still nothing new.
      const runs = async () => (await rt.queues.health.getJobCounts('completed')).completed ?? 0;
      const before = await runs();
      await waitFor('three more evaluations', async () => (await runs()) >= Math.min(before + 3, 10));
    } finally {
      await workers?.close();
      await rt.close();
    }
    expect(
      contents()
        .map((c) => /(FIRING|CLEARED) [a-z-]+/.exec(c)?.[0])
        .sort(),
    ).toEqual([
      'CLEARED undelivered-lot',
      'CLEARED vendor-clock-skew',
      'FIRING undelivered-lot',
      'FIRING vendor-clock-skew',
    ]);
    expect(hook.refused).toEqual([]);
    expect((await collectStatus(h.rt)).healthAlerts).toEqual([]);
  });
});
