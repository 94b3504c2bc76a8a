import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitSerialized, utf8Bound } from '../../src/isp/batches.js';
import { splitBatches, splitParkCodes } from '../../src/isp/index.js';

describe('splitBatches', () => {
  it('splits by count', () => {
    const records = Array.from({ length: 250 }, (_, i) => ({ i }));
    const parts = splitBatches(records, { maxItems: 100, maxBytes: 1e9 });
    expect(parts.map((p) => [p.start, p.end])).toEqual([
      [0, 100],
      [100, 200],
      [200, 250],
    ]);
    expect(JSON.parse(parts[2]!.body)).toEqual(records.slice(200));
  });

  it('splits by bytes, counting UTF-8 bytes of the whole body', () => {
    const records = Array.from({ length: 10 }, () => ({ p: '鲁'.repeat(100) })); // 309 bytes each
    const parts = splitBatches(records, { maxItems: 100, maxBytes: 1000 });
    for (const part of parts) {
      expect(Buffer.byteLength(part.body)).toBe(part.bytes);
      expect(part.bytes).toBeLessThanOrEqual(1000);
    }
    expect(parts.map((p) => p.end - p.start)).toEqual([3, 3, 3, 1]);
  });

  it('a record larger than maxBytes is its own batch, never dropped', () => {
    const records = [{ a: 1 }, { big: 'x'.repeat(5000) }, { b: 2 }];
    const parts = splitBatches(records, { maxItems: 100, maxBytes: 100 });
    expect(parts.map((p) => [p.start, p.end])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(JSON.parse(parts[1]!.body)).toEqual([records[1]]);
  });

  it('nothing in, nothing out', () => {
    expect(splitBatches([], { maxItems: 100, maxBytes: 100 })).toEqual([]);
  });

  it('property: parts cover the input in order, within the bounds unless alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: fc.string({ unit: 'grapheme', maxLength: 60 }), n: fc.integer() }), {
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 2, max: 400 }),
        (records, maxItems, maxBytes) => {
          const parts = splitBatches(records, { maxItems, maxBytes });
          let next = 0;
          const back: unknown[] = [];
          for (const part of parts) {
            expect(part.start).toBe(next);
            expect(part.end).toBeGreaterThan(part.start);
            expect(part.end - part.start).toBeLessThanOrEqual(maxItems);
            if (part.end - part.start > 1) expect(part.bytes).toBeLessThanOrEqual(maxBytes);
            back.push(...JSON.parse(part.body));
            next = part.end;
          }
          expect(next).toBe(records.length);
          expect(back).toEqual(records);
        },
      ),
    );
  });
});

describe('splitParkCodes', () => {
  it('joins codes with "," in {park_code} bodies', () => {
    const parts = splitParkCodes(['ATXL/1', 'ATXL/2', '奥体"3'], { maxItems: 2, maxBytes: 1e6 });
    expect(parts.map((p) => JSON.parse(p.body))).toEqual([
      { park_code: 'ATXL/1,ATXL/2' },
      { park_code: '奥体"3' },
    ]);
    for (const part of parts) expect(Buffer.byteLength(part.body)).toBe(part.bytes);
  });
});

describe('utf8Bound', () => {
  it('is never below the UTF-8 length, and exact for long texts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 3_000 }), (text) => {
        expect(utf8Bound(text)).toBeGreaterThanOrEqual(Buffer.byteLength(text));
        if (text.length > 2_048) expect(utf8Bound(text)).toBe(Buffer.byteLength(text));
      }),
    );
    const photo = `data:image/jpg;base64,${'A'.repeat(500_000)}`;
    expect(utf8Bound(photo)).toBe(photo.length);
  });

  it('bodies sized by it stay within the byte limit', () => {
    const texts = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ plate: `鲁A${i}`, lot: '停车场'.repeat(i % 7) }),
    );
    const parts = splitSerialized(texts, { maxItems: 100, maxBytes: 4_000 }, texts.map(utf8Bound));
    for (const p of parts) {
      if (p.end - p.start > 1) expect(Buffer.byteLength(p.body)).toBeLessThanOrEqual(4_000);
    }
    expect(parts.at(-1)!.end).toBe(300);
  });
});
