/**
 * Metric labels stay bounded: every label name is one whose values come from a fixed set (sources,
 * streams, endpoints, outcome classes, queue names, states) or are capped (dictionary values);
 * none carries a job id, plate or message, and a lot code only on the series of an active lot
 * health alert (one per alert that holds, removed when it clears). And a vendor writing a new word
 * per row into a dictionary column adds at most MAX_LABEL_VALUES series, the rest counted as
 * "(other)".
 *
 * Every metric of ours carries `source` first, so the sources of one process keep their figures
 * apart.
 */
import { describe, expect, it } from 'vitest';
import { alertActive, registry, showActiveAlerts, unknownValues } from '../src/metrics.js';
import { MAX_LABEL_VALUES, OTHER_LABEL, recordWarnings } from '../src/transform/record.js';

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
