/**
 * The lot health evaluation against real Redis and a real HTTP webhook, with a controlled clock:
 * the stores are written the way the pipeline writes them (deliveries counted by the bookkeeping,
 * rows quarantined by the poll's quarantine, the vendor clock noted by a poll, read-up-to times,
 * pending push jobs in a real BullMQ queue), then evaluated. Each alert fires once and clears once,
 * each notification reaches the webhook exactly once, a restarted evaluator fires nothing again,
 * the rate limit gathers what is due, and a webhook outage loses nothing.
 */
import { Writable } from 'node:stream';
import { DateTime } from 'luxon';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { alertActive, registry } from '../../../src/metrics.js';
import { countDelivered, DeliveryTally } from '../../../src/pipeline/bookkeeping.js';
import { quarantineRow } from '../../../src/pipeline/events/poll-deps.js';
import type { EventRecord } from '../../../src/pipeline/events/records.js';
import { healthDeps } from '../../../src/pipeline/health/deps.js';
import { evaluateHealth } from '../../../src/pipeline/health/evaluate.js';
import { createRuntime, type Runtime } from '../../../src/pipeline/runtime.js';
import { collectStatus } from '../../../src/pipeline/status.js';
import type { EventRow } from '../../../src/pipeline/streams.js';
import { noteVendorClock } from '../../../src/pipeline/vendor-clock.js';
import type { AlertNotification } from '../../../src/state/lot-health.js';
import { TEST_STATE_DIR } from '../../helpers/pipeline.js';
import { createTestRedis, deleteKeys, type TestRedis } from '../../helpers/services.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../helpers/webhook-receiver.js';

const ZONE = 'Asia/Shanghai';
const HOOK_TOKEN = 'hook-token-7f3a9c1e55';
/** Monday 2026-11-30 00:00 in Shanghai. */
const MONDAY = DateTime.fromObject({ year: 2026, month: 11, day: 30 }, { zone: ZONE });
const at = (days: number, hours: number, minutes = 0) => MONDAY.plus({ days, hours, minutes }).toMillis();

let receiver: WebhookReceiver;
let redis: TestRedis;
let rt: Runtime;
let logLines: string[];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
});

function runtime(alerts: Record<string, unknown> = {}): Runtime {
  const config = loadConfig({
    env: {},
    overrides: {
      redis: { url: redis.url, prefix: redis.prefix, stateDir: TEST_STATE_DIR },
      vendor: { timeZone: ZONE },
      alerts: deepAlerts({ webhook: { url: `${receiver.url}/hook?key=${HOOK_TOKEN}` }, ...alerts }),
    },
  });
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  return createRuntime(config, { logger });
}

function deepAlerts(alerts: Record<string, unknown>): Record<string, unknown> {
  const webhook = { ...(alerts.webhook as object) };
  return { ...alerts, webhook };
}

beforeEach(async () => {
  redis = await createTestRedis('health');
  logLines = [];
  receiver.received.length = 0;
  receiver.refused.length = 0;
  receiver.answer = () => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } });
  rt = runtime();
});
afterEach(async () => {
  for (const q of rt.queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
  await rt.close();
  await deleteKeys(redis.client, `${redis.prefix}*`);
  await redis.cleanup();
});

function record(lot: string, time: number, n: number): EventRecord {
  return { key: `${lot}|${time}|${n}`, time, vendorKey: `${lot}-${time}-${n}`, lot, payload: '{}' };
}

/** Entrances of `lot` at `times` (Unix s) delivered at `nowMs`, counted as the pipeline counts them. */
async function deliver(lot: string, times: number[], nowMs: number, live = false): Promise<void> {
  const tally = new DeliveryTally(rt).add(times.map((t, i) => record(lot, t, i)));
  await countDelivered(rt, 'entrances', tally, { live, nowMs });
}

async function evaluate(nowMs: number) {
  return evaluateHealth(healthDeps(rt), nowMs);
}

/** The notifications the webhook accepted, as `fired|cleared alert lot/stream`. */
function notified(): string[] {
  return receiver.received.flatMap((m) =>
    (m.body.notifications as AlertNotification[]).map((n) => `${n.event} ${n.alert} ${n.lot || n.stream}`),
  );
}

const ids = (run: { active: Array<{ id: string }> }) => run.active.map((a) => a.id).sort();

describe('lot health alerts, evaluated with a controlled clock (real Redis, real webhook)', () => {
  it('quiet lot: learned by hour of the week, fires after its usual silence, not at night, clears with its next event', async () => {
    const s = (ms: number) => Math.floor(ms / 1000);
    // Week 1: lot Q busy on Monday 09:00–22:00, an event every 5 min, then quiet until Tuesday 07:00.
    for (let m = 9 * 60; m <= 22 * 60; m += 5) await deliver('Q', [s(at(0, 0, m))], at(0, 0, m) + 5_000);
    await deliver('Q', [s(at(1, 7))], at(1, 7) + 5_000);
    // A lot with no history at all for the hour its silence began: never alerts.
    await deliver('N', [s(at(7, 3))], at(7, 3) + 5_000);
    // Week 2, Monday: Q busy from 09:00 to 10:00, then silent.
    for (let m = 9 * 60; m <= 10 * 60; m += 5) await deliver('Q', [s(at(7, 0, m))], at(7, 0, m) + 5_000);

    // 20 min of silence at 10:00: usual 5 min × 4 = 20 min, below the 30 min floor: nothing.
    expect(ids(await evaluate(at(7, 10, 20)))).toEqual([]);
    const fired = await evaluate(at(7, 10, 31));
    expect(ids(fired)).toEqual(['quiet-lot|Q|']);
    expect(fired.active[0]!.reason).toContain('no entrance or departure for 31 min');
    expect(fired.active[0]!.reason).toContain('Mondays at 10:00 usually lasts at most 5 min');
    // Still quiet: no second notification.
    await evaluate(at(7, 11));
    expect(notified()).toEqual(['fired quiet-lot Q']);

    await deliver('Q', [s(at(7, 11, 5))], at(7, 11, 5) + 5_000);
    expect(ids(await evaluate(at(7, 11, 6)))).toEqual([]);
    expect(notified()).toEqual(['fired quiet-lot Q', 'cleared quiet-lot Q']);
    const cleared = receiver.received[1]!.body.notifications as AlertNotification[];
    expect(cleared[0]).toMatchObject({ event: 'cleared', since: s(at(7, 10, 31)), at: s(at(7, 11, 6)) });

    // Monday night: the last event at 22:00, 5 h of silence: the lot learned 9 h there last week.
    for (let m = 11 * 60 + 10; m <= 22 * 60; m += 5)
      await deliver('Q', [s(at(7, 0, m))], at(7, 0, m) + 5_000);
    expect(ids(await evaluate(at(8, 3)))).toEqual([]);
    // … but past 4 × 9 h it does alert.
    expect(ids(await evaluate(at(9, 10)))).toEqual([]);
    expect(ids(await evaluate(at(9, 11)))).toEqual(['quiet-lot|Q|']);
    expect(notified()).toHaveLength(3);
  });

  it('stale count: unchanged for hours while events flow; a full sync of the same values does not reset it', async () => {
    const t0 = at(14, 8);
    const count = (remain: number, nowMs: number) =>
      rt.activity.recordDelivered(
        'spotNums',
        1,
        {
          spotNums: [
            { park_code: 'S', total_spots_num: 120, remain_spots_num: remain, used_spots_num: 120 - remain },
          ],
        },
        nowMs,
      );
    await count(37, t0);
    for (let m = 0; m <= 190; m += 10)
      await deliver('S', [Math.floor((t0 + m * 60_000) / 1000)], t0 + m * 60_000);
    expect(ids(await evaluate(t0 + 170 * 60_000))).toEqual([]); // under 3 h
    await count(37, t0 + 175 * 60_000); // the nightly full sync sends the same values again
    const run = await evaluate(t0 + 181 * 60_000);
    expect(ids(run)).toEqual(['stale-count|S|']);
    expect(run.active[0]!.reason).toContain('stayed at 37 free of 120 for 3 h 1 min');
    expect(run.active[0]!.reason).toContain('while 20 of its entrances and departures were delivered');
    await count(36, t0 + 185 * 60_000);
    expect(ids(await evaluate(t0 + 186 * 60_000))).toEqual([]);
    expect(notified()).toEqual(['fired stale-count S', 'cleared stale-count S']);
  });

  it('undelivered lot: mostly quarantined or refused fires; delivered again, it clears', async () => {
    const now = Date.now(); // quarantining counts at the wall clock, as in the pipeline
    await deliver(
      'U',
      [1, 2, 3, 4].map((i) => Math.floor(now / 1000) - 100 + i),
      now,
    );
    const quarantine = quarantineRow(rt, 'entrances');
    for (let i = 0; i < 6; i++)
      await quarantine({ vendorKey: `u${i}`, parkCode: ' U ', cursorTime: 'x' } as unknown as EventRow, [
        { code: 'zero-date', message: 'enter time is 0000-00-00' },
      ]);
    await rt.health.countOutcome('U', 'refused', now);
    await rt.health.countOutcome('U', 'refused', now);
    const run = await evaluate(now);
    expect(ids(run)).toEqual(['undelivered-lot|U|']);
    expect(run.active[0]!.reason).toContain(
      "8 of lot U's 12 events in the last one to two hours were not delivered: 6 quarantined",
    );
    expect(run.active[0]!.reason).toContain('2 refused by ISP (why: `replay --list --lot U`)');
    expect((await rt.quarantine.counts()).entrances).toBe(6); // the rows themselves are kept
    await deliver(
      'U',
      Array.from({ length: 10 }, (_, i) => Math.floor(now / 1000) - 50 + i),
      now,
    );
    expect(ids(await evaluate(now + 1_000))).toEqual([]);
    expect(notified()).toEqual(['fired undelivered-lot U', 'cleared undelivered-lot U']);
  });

  it('vendor clock skew: measured by a poll beyond the bound fires, within it clears', async () => {
    const t = at(21, 9);
    await noteVendorClock(rt, t / 1000 + 300, t);
    const run = await evaluate(t + 1_000);
    expect(ids(run)).toEqual(['vendor-clock-skew||']);
    expect(run.active[0]!.reason).toContain("the vendor database's clock is 5 min ahead of this host's");
    await noteVendorClock(rt, (t + 30_000) / 1000 + 2, t + 30_000);
    expect(ids(await evaluate(t + 31_000))).toEqual([]);
    expect(notified()).toEqual(['fired vendor-clock-skew ', 'cleared vendor-clock-skew ']);
  });

  it('read lag: a stream held back beyond the bound fires, caught up it clears', async () => {
    const t = at(21, 9);
    await rt.progress.setCaughtUp('departures', t / 1000 - 900);
    await rt.progress.setCaughtUp('entrances', t / 1000 - 3);
    const run = await evaluate(t);
    expect(ids(run)).toEqual(['read-lag||departures']);
    expect(run.active[0]!.reason).toContain(
      'departures has read the vendor only up to 2026-12-21 08:45:00, 15 min ago',
    );
    await rt.progress.setCaughtUp('departures', t / 1000 + 55);
    expect(ids(await evaluate(t + 60_000))).toEqual([]);
    expect(notified()).toEqual(['fired read-lag departures', 'cleared read-lag departures']);
  });

  it('delivery latency: a slow live delivery or an event waiting in a push job fires; within the bound it clears', async () => {
    const t = at(21, 9);
    const nowS = t / 1000;
    // A backfill of old events is not live: no latency alert.
    await deliver('L', [nowS - 3_000], t, false);
    expect(ids(await evaluate(t))).toEqual([]);
    await deliver('L', [nowS - 900, nowS - 10], t, true);
    const run = await evaluate(t + 1_000);
    expect(ids(run)).toEqual(['delivery-latency||entrances']);
    expect(run.active[0]!.reason).toContain('the slowest delivery of the last 5 min took 15 min');
    // Past the window, only quick deliveries: it clears.
    await deliver('L', [nowS + 400], t + 402_000, true);
    expect(ids(await evaluate(t + 420_000))).toEqual([]);
    // An event that has waited in a live push job for 11 min: fires again, clears once settled.
    const jobId = `entrances-${nowS}`;
    await rt.queues.push.entrances.add(
      'entrances',
      { kind: 'events', stream: 'entrances', records: [] },
      { jobId },
    );
    await rt.progress.addPending('entrances', [{ id: jobId, firstTime: nowS + 420 - 660 }]);
    const waiting = await evaluate(t + 420_000);
    expect(ids(waiting)).toEqual(['delivery-latency||entrances']);
    expect(waiting.active[0]!.reason).toContain(
      'an event of 2026-12-21 08:56:00 is still waiting to be delivered',
    );
    await rt.progress.settle('entrances', jobId);
    expect(ids(await evaluate(t + 430_000))).toEqual([]);
    expect(notified()).toEqual([
      'fired delivery-latency entrances',
      'cleared delivery-latency entrances',
      'fired delivery-latency entrances',
      'cleared delivery-latency entrances',
    ]);
  });

  it('a restarted evaluator (another process) fires nothing again; the gauge and status page show what is active', async () => {
    const t = at(21, 9);
    await rt.progress.setCaughtUp('entrances', t / 1000 - 900);
    await evaluate(t);
    const other = runtime();
    try {
      const again = await evaluateHealth(healthDeps(other), t + 30_000);
      expect(ids(again)).toEqual(['read-lag||entrances']);
      expect(again.fired).toEqual([]);
      const status = await collectStatus(other, { nowMs: t + 30_000 });
      expect(status.healthAlerts).toEqual([
        expect.objectContaining({ alert: 'read-lag', lot: '', stream: 'entrances', since: t / 1000 }),
      ]);
    } finally {
      await other.close();
    }
    expect(notified()).toEqual(['fired read-lag entrances']);
    const gauge = (await alertActive.get()).values;
    expect(gauge).toEqual([
      { labels: { source: 'default', alert: 'read-lag', lot: '', stream: 'entrances' }, value: 1 },
    ]);
    expect(await registry.metrics()).toContain(
      'isp_sync_alerts_fired_total{source="default",alert="read-lag"}',
    );
  });

  it('rate limit: the window’s last message carries every notification due, the rest wait; nothing twice', async () => {
    await rt.close();
    rt = runtime({ rateLimit: { maxMessages: 2, windowSeconds: 600 } });
    const t = at(28, 9, 1); // 09:01, so the next 10-minute window starts 9 min later
    const nowS = t / 1000;
    await noteVendorClock(rt, nowS + 600, t);
    for (const s of ['entrances', 'departures'] as const) await rt.progress.setCaughtUp(s, nowS - 3_600);
    await deliver('R', [nowS - 1_800], t, true);
    const first = await evaluate(t);
    expect(first.fired).toHaveLength(4);
    expect(first.messagesSent).toBe(2);
    expect(receiver.received.map((m) => (m.body.notifications as unknown[]).length)).toEqual([1, 3]);
    expect(String(receiver.received[1]!.body.text)).toContain(
      '3 alert notifications, gathered by the rate limit',
    );

    // All four clear within the same window: their notifications wait for the next one.
    await noteVendorClock(rt, nowS + 60, t + 60_000);
    for (const s of ['entrances', 'departures'] as const) await rt.progress.setCaughtUp(s, nowS + 55);
    const cleared = await evaluate(t + 400_000); // the latency window (5 min) has passed
    expect(cleared.cleared).toHaveLength(4);
    expect(cleared.messagesSent).toBe(0);
    expect(cleared.waiting).toBe(4);
    expect(receiver.received).toHaveLength(2);

    const next = await evaluate(t + 540_000); // 09:10: a new window
    expect(next.messagesSent).toBe(2);
    expect(next.waiting).toBe(0);
    expect(notified().sort()).toEqual(
      [
        'fired delivery-latency entrances',
        'fired read-lag departures',
        'fired read-lag entrances',
        'fired vendor-clock-skew ',
        'cleared delivery-latency entrances',
        'cleared read-lag departures',
        'cleared read-lag entrances',
        'cleared vendor-clock-skew ',
      ].sort(),
    );
    await evaluate(t + 600_000);
    expect(receiver.received).toHaveLength(4);
  });

  it('a webhook that fails keeps the notification for the next evaluation; the token is never logged', async () => {
    const t = at(21, 9);
    await rt.progress.setCaughtUp('entrances', t / 1000 - 900);
    receiver.answer = () => ({ status: 500, body: { error: `bad key ${HOOK_TOKEN}` } });
    const failed = await evaluate(t);
    expect(failed.messagesSent).toBe(0);
    expect(failed.waiting).toBe(1);
    expect(receiver.refused).toHaveLength(1);
    expect(receiver.refused[0]!.url).toBe(`/hook?key=${HOOK_TOKEN}`);
    receiver.answer = () => ({ status: 200, body: { errcode: 0 } });
    const retried = await evaluate(t + 30_000);
    expect(retried.messagesSent).toBe(1);
    expect(notified()).toEqual(['fired read-lag entrances']);
    const log = logLines.join('');
    expect(log).toContain('alert webhook failed');
    expect(log).toContain('HTTP 500');
    expect(log).not.toContain(HOOK_TOKEN);
  });

  it('a notification the webhook has not taken within giveUpAfterSeconds is dropped, with a warning', async () => {
    await rt.close();
    rt = runtime({ webhook: { url: `${receiver.url}/hook?key=${HOOK_TOKEN}`, giveUpAfterSeconds: 120 } });
    const t = at(21, 9);
    await rt.progress.setCaughtUp('entrances', t / 1000 - 900);
    receiver.answer = () => ({ status: 503, body: {} });
    expect((await evaluate(t)).waiting).toBe(1);
    expect((await evaluate(t + 60_000)).waiting).toBe(1);
    receiver.answer = () => ({ status: 200, body: { errcode: 0 } });
    const late = await evaluate(t + 121_000);
    expect(late.waiting).toBe(0);
    expect(late.messagesSent).toBe(0);
    expect(receiver.received).toEqual([]);
    expect(logLines.join('')).toContain('alert notifications given up');
    expect(logLines.join('')).toContain('fired read-lag entrances');
  });

  it('DingTalk preset: signed with the secret from config, refused signatures wait', async () => {
    await rt.close();
    const secret = 'SEC-dingtalk-0123456789abcdef';
    rt = runtime({
      webhook: { url: `${receiver.url}/robot/send?access_token=${HOOK_TOKEN}`, preset: 'dingtalk', secret },
    });
    const { createHmac } = await import('node:crypto');
    // The robot's check, as DingTalk documents it.
    receiver.answer = (m) => {
      const url = new URL(m.url, receiver.url);
      const timestamp = url.searchParams.get('timestamp') ?? '';
      const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
      const fresh = Math.abs(Date.now() - Number(timestamp)) < 3_600_000;
      return url.searchParams.get('sign') === expected &&
        fresh &&
        url.searchParams.get('access_token') === HOOK_TOKEN
        ? { status: 200, body: { errcode: 0, errmsg: 'ok' } }
        : { status: 200, body: { errcode: 310000, errmsg: 'sign not match' } };
    };
    const t = at(21, 9);
    await rt.progress.setCaughtUp('entrances', t / 1000 - 900);
    await evaluate(t);
    expect(receiver.received).toHaveLength(1);
    const body = receiver.received[0]!.body as { msgtype: string; text: { content: string } };
    expect(body.msgtype).toBe('text');
    expect(body.text.content).toMatch(
      /^isp-park-sync: FIRING read-lag, stream entrances \(2026-12-21 09:00:00\)\n/,
    );

    // A robot that refuses the signature (errcode with HTTP 200): not sent, waits.
    receiver.answer = () => ({ status: 200, body: { errcode: 310000, errmsg: 'sign not match' } });
    await rt.progress.setCaughtUp('entrances', t / 1000 + 25);
    const run = await evaluate(t + 30_000);
    expect(run.waiting).toBe(1);
    expect(logLines.join('')).toContain('errcode 310000, sign not match');
    expect(logLines.join('')).not.toContain(secret);
  });
});
