/**
 * Metric labels stay bounded: every label name is one whose values come from a fixed set (sources,
 * streams, endpoints, outcome classes, queue names, states) or are capped (dictionary values);
 * none carries a job id, plate or message, and a lot code only on the series of an active lot
 * health alert (one per alert that holds, removed when it clears). And a vendor writing a new word
 * per row into a dictionary column adds at most MAX_LABEL_VALUES series, the rest counted as
 * "(other)".
 *
 * Every metric of ours carries `source` first, so the sources of one process keep their figures
 * apart: two Runtimes named north and south show two series of the same metric, and one source's
 * refresh or restore of a gauge leaves the other's series alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertActive, queueDepth, registry, showActiveAlerts, unknownValues } from '../src/metrics.js';
import { createQueues } from '../src/pipeline/queues.js';
import { restoreReconcileGauges, runNightlyReconcile } from '../src/pipeline/reconcile/nightly.js';
import { MAX_LABEL_VALUES, OTHER_LABEL, recordWarnings } from '../src/transform/record.js';
import { refreshQueueDepth } from '../src/web/queue-depth.js';
import { type Harness, startHarness } from './helpers/pipeline.js';

/** Label names whose values are bounded, and where the bound comes from. */
const BOUNDED_LABELS: Record<string, string> = {
  source: "the config's sources (source.name)",
  stream: 'STREAM_NAMES',
  reason: 'QuarantineCode',
  kind: 'WarningKind',
  dictionary: 'carType | payType',
  value: `at most ${MAX_LABEL_VALUES} per source and dictionary (record.ts)`,
  endpoint: 'EndpointName',
  outcome: 'outcome classes',
  queue: 'ALL_QUEUE_NAMES',
  state: 'BullMQ job states',
  result: 'ok | refused | failed; sent | failed | given_up (alert webhook)',
  alert: 'ALERT_NAMES (src/pipeline/health/rules.ts)',
  lot: 'lot codes of active health alerts only (showActiveAlerts removes cleared ones)',
};

// prom-client's default process and Node metrics: the process's, shared by its sources.
const ours = (name: string) => !/^isp_sync_(nodejs|process)_/.test(name);

const ourMetrics = () =>
  registry
    .getMetricsAsArray()
    .map((m) => m as unknown as { name: string; labelNames: string[] })
    .filter((m) => ours(m.name));

/** The sample lines of one metric in the /metrics text, e.g. `isp_sync_x{source="a"} 1`. */
async function samples(name: string): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith(`${name}{`));
}

describe('metric labels', () => {
  it('use only label names with bounded values', async () => {
    for (const metric of (await registry.getMetricsAsJSON()).filter((m) => ours(m.name))) {
      for (const value of metric.values) {
        for (const label of Object.keys(value.labels)) {
          expect(BOUNDED_LABELS, `${metric.name}{${label}}`).toHaveProperty(label);
        }
      }
    }
    const names = ourMetrics().flatMap((m) => m.labelNames);
    expect(names.length).toBeGreaterThan(5);
    for (const label of names) expect(BOUNDED_LABELS, label).toHaveProperty(label);
  });

  it('start with `source` on every metric of ours', () => {
    const metrics = ourMetrics();
    expect(metrics.length).toBeGreaterThan(20);
    for (const m of metrics) expect(m.labelNames[0], m.name).toBe('source');
  });

  it('keep at most MAX_LABEL_VALUES dictionary values per source, the rest as (other)', async () => {
    for (let i = 0; i < 2_000; i++) {
      recordWarnings('north', 'entrances', [
        { kind: 'unknown-car-type', value: `free text ${i}`, message: 'unknown car type' } as never,
      ]);
    }
    recordWarnings('north', 'entrances', [
      { kind: 'unknown-car-type', value: 'free text 3', message: '' } as never,
    ]);
    // Another source's unknown words have labels of their own: north's free text used up only north's.
    recordWarnings('south', 'entrances', [
      { kind: 'unknown-car-type', value: '飞行汽车', message: '' } as never,
    ]);
    const carTypes = (await unknownValues.get()).values.filter((v) => v.labels.dictionary === 'carType');
    const north = carTypes.filter((v) => v.labels.source === 'north');
    expect(north.length).toBe(MAX_LABEL_VALUES + 1);
    expect(north.find((v) => v.labels.value === OTHER_LABEL)?.value).toBe(2_000 - MAX_LABEL_VALUES);
    expect(north.find((v) => v.labels.value === 'free text 3')?.value).toBe(2);
    expect(carTypes.filter((v) => v.labels.source === 'south')).toEqual([
      { labels: { source: 'south', dictionary: 'carType', value: '飞行汽车' }, value: 1 },
    ]);
  });

  it("a source's alert gauge shows exactly its active alerts and leaves other sources' series", async () => {
    const active = async (source: string) =>
      (await alertActive.get()).values
        .filter((v) => v.labels.source === source)
        .map((v) => `${v.labels.alert}|${v.labels.lot}|${v.labels.stream}`)
        .sort();
    showActiveAlerts('east', [
      { alert: 'lot-quiet', lot: 'P1', stream: 'entrances' },
      { alert: 'read-lag', lot: '', stream: 'departures' },
    ]);
    showActiveAlerts('west', [{ alert: 'lot-quiet', lot: 'P1', stream: 'entrances' }]);
    showActiveAlerts('east', [{ alert: 'read-lag', lot: '', stream: 'departures' }]);
    expect(await active('east')).toEqual(['read-lag||departures']);
    expect(await active('west')).toEqual(['lot-quiet|P1|entrances']);
    showActiveAlerts('east', []);
    expect(await active('east')).toEqual([]);
    expect(await active('west')).toEqual(['lot-quiet|P1|entrances']);
    expect(await samples('isp_sync_alert_active')).toContain(
      'isp_sync_alert_active{source="west",alert="lot-quiet",lot="P1",stream="entrances"} 1',
    );
  });
});

describe('two sources in one process (real MariaDB, Redis and ISP simulator each)', () => {
  let north: Harness;
  let south: Harness;

  beforeAll(async () => {
    // Each harness has its own database, Redis prefix and simulator; only the registry is shared.
    [north, south] = await Promise.all([
      startHarness({
        seed: { lots: 3, visits: 40, days: 2, photos: false },
        config: { source: { name: 'north' } },
      }),
      startHarness({ seed: { lots: 5, visits: 0, photos: false }, config: { source: { name: 'south' } } }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([north?.close(), south?.close()]);
  });

  it('count the same metrics as separate series, source="north" and source="south"', async () => {
    expect(north.rt.config.source.name).toBe('north');
    expect(south.rt.config.source.name).toBe('south');
    await north.registerLots();
    await south.registerLots();

    // Rows read through each source's vendor pool, lots delivered by each source's ISP client.
    expect(await samples('isp_sync_rows_read_total')).toEqual(
      expect.arrayContaining([
        'isp_sync_rows_read_total{source="north",stream="parks"} 3',
        'isp_sync_rows_read_total{source="south",stream="parks"} 5',
      ]),
    );
    expect(await samples('isp_sync_events_delivered_total')).toEqual(
      expect.arrayContaining([
        'isp_sync_events_delivered_total{source="north",stream="parks"} 3',
        'isp_sync_events_delivered_total{source="south",stream="parks"} 5',
      ]),
    );
    const requests = (await samples('isp_sync_push_duration_seconds_count')).filter((l) =>
      l.includes('endpoint="parks",outcome="delivered"'),
    );
    expect(requests.map((l) => l.slice(0, l.indexOf(',')))).toEqual([
      'isp_sync_push_duration_seconds_count{source="north"',
      'isp_sync_push_duration_seconds_count{source="south"',
    ]);
    expect(await samples('isp_sync_token_refreshes_total')).toEqual(
      expect.arrayContaining([
        'isp_sync_token_refreshes_total{source="north",result="ok"} 1',
        'isp_sync_token_refreshes_total{source="south",result="ok"} 1',
      ]),
    );
  });

  it("one source's gauge refresh, restore or failure leaves the other's series", async () => {
    // Queue depths: both sources counted, then north's queues fail to answer: only north's series go.
    await refreshQueueDepth('north', north.rt.queues.all());
    await refreshQueueDepth('south', south.rt.queues.all());
    const depthSources = async () => new Set((await queueDepth.get()).values.map((v) => v.labels.source));
    expect(await depthSources()).toEqual(new Set(['north', 'south']));
    const closed = createQueues(north.config);
    await closed.close();
    await expect(refreshQueueDepth('north', closed.all(), 1_000)).rejects.toThrow();
    expect(await depthSources()).toEqual(new Set(['south']));
    expect(await samples('isp_sync_queue_depth')).toContain(
      'isp_sync_queue_depth{source="south",queue="push-entrances",state="wait"} 0',
    );

    // Reconcile: north's vendor recorded yesterday's visits that were never sent, south's has none.
    // Both event streams count as read up to now, so yesterday is not provisional.
    for (const h of [north, south])
      for (const stream of ['entrances', 'departures'] as const)
        await h.rt.progress.setCaughtUp(stream, Math.floor(Date.now() / 1000));
    await runNightlyReconcile(north.rt);
    await runNightlyReconcile(south.rt);
    const missing = async (source: string) =>
      (await samples('isp_sync_reconcile_missing')).find((l) =>
        l.startsWith(`isp_sync_reconcile_missing{source="${source}",stream="entrances"} `),
      );
    const northMissing = await missing('north');
    expect(Number(northMissing?.split(' ').at(-1))).toBeGreaterThan(0);
    expect(await missing('south')).toBe('isp_sync_reconcile_missing{source="south",stream="entrances"} 0');
    // A restart of south restores south's night only; north's figures stay as they were.
    await restoreReconcileGauges(south.rt);
    expect(await missing('north')).toBe(northMissing);
    expect(await missing('south')).toBe('isp_sync_reconcile_missing{source="south",stream="entrances"} 0');
    expect(
      (await samples('isp_sync_reconcile_checked_timestamp_seconds')).map((l) => l.split(' ')[0]),
    ).toEqual(
      expect.arrayContaining([
        'isp_sync_reconcile_checked_timestamp_seconds{source="north"}',
        'isp_sync_reconcile_checked_timestamp_seconds{source="south"}',
      ]),
    );
  });
});
