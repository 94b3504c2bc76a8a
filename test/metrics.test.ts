/**
 * Metric labels stay bounded: every label name is one whose values come from a fixed set (streams,
 * endpoints, outcome classes, queue names, states) or are capped (dictionary values); none carries
 * a job id, plate or message, and a lot code only on the series of an active lot health alert (one
 * per alert that holds, removed when it clears). And a vendor writing a new word per row into a dictionary
 * column adds at most MAX_LABEL_VALUES series, the rest counted as "(other)".
 */
import { describe, expect, it } from 'vitest';
import { registry, unknownValues } from '../src/metrics.js';
import { MAX_LABEL_VALUES, OTHER_LABEL, recordWarnings } from '../src/transform/record.js';

/** Label names whose values are bounded, and where the bound comes from. */
const BOUNDED_LABELS: Record<string, string> = {
  stream: 'STREAM_NAMES',
  reason: 'QuarantineCode',
  kind: 'WarningKind',
  dictionary: 'carType | payType',
  value: `at most ${MAX_LABEL_VALUES} per dictionary (record.ts)`,
  endpoint: 'EndpointName',
  outcome: 'outcome classes',
  queue: 'ALL_QUEUE_NAMES',
  state: 'BullMQ job states',
  result: 'ok | refused | failed; sent | failed | given_up (alert webhook)',
  alert: 'ALERT_NAMES (src/pipeline/health/rules.ts)',
  lot: 'lot codes of active health alerts only (showActiveAlerts removes cleared ones)',
};

describe('metric labels', () => {
  // prom-client's default process and Node metrics label by GC kind, heap space and the like.
  const ours = (name: string) => !/^isp_sync_(nodejs|process)_/.test(name);

  it('use only label names with bounded values', async () => {
    for (const metric of (await registry.getMetricsAsJSON()).filter((m) => ours(m.name))) {
      for (const value of metric.values) {
        for (const label of Object.keys(value.labels)) {
          expect(BOUNDED_LABELS, `${metric.name}{${label}}`).toHaveProperty(label);
        }
      }
    }
    const names = registry
      .getMetricsAsArray()
      .map((m) => m as unknown as { name: string; labelNames: string[] })
      .filter((m) => ours(m.name))
      .flatMap((m) => m.labelNames);
    expect(names.length).toBeGreaterThan(5);
    for (const label of names) expect(BOUNDED_LABELS, label).toHaveProperty(label);
  });

  it('keep at most MAX_LABEL_VALUES dictionary values, the rest as (other)', async () => {
    for (let i = 0; i < 2_000; i++) {
      recordWarnings('entrances', [
        { kind: 'unknown-car-type', value: `free text ${i}`, message: 'unknown car type' } as never,
      ]);
    }
    recordWarnings('entrances', [{ kind: 'unknown-car-type', value: 'free text 3', message: '' } as never]);
    const values = (await unknownValues.get()).values.filter((v) => v.labels.dictionary === 'carType');
    expect(values.length).toBe(MAX_LABEL_VALUES + 1);
    expect(values.find((v) => v.labels.value === OTHER_LABEL)?.value).toBe(2_000 - MAX_LABEL_VALUES);
    expect(values.find((v) => v.labels.value === 'free text 3')?.value).toBe(2);
  });
});
