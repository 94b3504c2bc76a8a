/** Records sent as bytes: the body a SplicedBody writes is the JSON the same records as text make. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildBody, type RecordText, recordBytes, recordString, SplicedBody } from '../../src/isp/index.js';

const framed = (json: string): RecordText => ({
  framed: Buffer.concat([Buffer.from('?'), Buffer.from(json)]),
});

describe('record texts', () => {
  it('a body with records as bytes is the JSON array of the same records as text, in any mix', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.record({ p: fc.string({ unit: 'grapheme', maxLength: 30 }), n: fc.integer() }),
            fc.boolean(),
          ),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        (items) => {
          const texts = items.map(([r, asBytes]) =>
            asBytes ? framed(JSON.stringify(r)) : JSON.stringify(r),
          );
          const body = buildBody(texts, '[', ']', ',');
          const bytes = typeof body === 'string' ? Buffer.from(body) : body.toBuffer();
          expect(JSON.parse(bytes.toString('utf8'))).toEqual(items.map(([r]) => r));
          const size = typeof body === 'string' ? Buffer.byteLength(body) : body.bytes;
          expect(size).toBe(bytes.length);
          expect(size).toBe(2 + (texts.length - 1) + texts.reduce((n, t) => n + recordBytes(t), 0));
        },
      ),
    );
  });

  it('hands each record in bytes to the socket in one piece, its separator in its spare byte', () => {
    const a = framed('{"a":"鲁A"}');
    const b = framed('{"b":2}');
    const body = buildBody([a, '{"t":1}', b], '[', ']', ',') as SplicedBody;
    const parts = [...body];
    expect(parts.map((p) => (typeof p === 'string' ? p : p.toString()))).toEqual([
      '[{"a":"鲁A"}',
      ',{"t":1},',
      '{"b":2}',
      ']',
    ]);
    expect(parts[0]).toBe((a as { framed: Buffer }).framed);
    // Iterated again (a retry after a 401): the same bytes.
    expect(body.toBuffer().toString()).toBe('[{"a":"鲁A"},{"t":1},{"b":2}]');
    expect(body.toBuffer().toString()).toBe(body.toBuffer().toString());
  });

  it('bodies of text alone stay strings; recordString gives a record’s JSON', () => {
    expect(buildBody(['{"a":1}', '{"b":2}'], '[', ']', ',')).toBe('[{"a":1},{"b":2}]');
    expect(recordString(framed('{"c":"停车场"}'))).toBe('{"c":"停车场"}');
    expect(recordBytes(framed('{"c":"停"}'))).toBe(Buffer.byteLength('{"c":"停"}'));
  });

  it('a multi-byte opening goes before the record, not into its spare byte', () => {
    const body = new SplicedBody([framed('"x"')], '{"list":[', ']}', ',');
    expect(body.toBuffer().toString()).toBe('{"list":["x"]}');
    expect(body.bytes).toBe('{"list":["x"]}'.length);
  });
});
