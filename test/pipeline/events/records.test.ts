import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitSerialized } from '../../../src/isp/batches.js';
import { eventRecord, ledgerKey, withPhoto, withPhotoBytes } from '../../../src/pipeline/events/records.js';
import { jobLots, readPushJob } from '../../../src/pipeline/push-queue.js';

const draft = {
  park_code: 'ATXL/1',
  plate_number: '鲁A12345',
  enter_time: 1772323200,
  gate_name: '东门 "A"\\入口',
  car_type: 1,
};

describe('push records carry their payload as text', () => {
  it('eventRecord serializes the draft once and keeps the lot and ledger key', () => {
    const r = eventRecord(draft, 'ATXL/1|鲁A12345|1772323200', '42', draft.enter_time);
    expect(r).toEqual({
      key: ledgerKey('ATXL/1|鲁A12345|1772323200', '42'),
      time: 1772323200,
      vendorKey: '42',
      lot: 'ATXL/1',
      payload: JSON.stringify(draft),
    });
  });

  it('withPhoto gives the same wire object as adding the field to the draft', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.constant(null))),
        fc.string(),
        (object, photo) => {
          const { enter_pic: _drop, ...payload } = object;
          const text = withPhoto(JSON.stringify(payload), 'enter_pic', photo);
          expect(JSON.parse(text)).toEqual({ ...payload, enter_pic: photo });
        },
      ),
    );
    expect(withPhoto('{}', 'depart_pic', '')).toBe('{"depart_pic":""}');
    // The empty field's text is kept per field: a second call, and another field, come out right.
    expect(withPhoto('{"a":1}', 'depart_pic', '')).toBe('{"a":1,"depart_pic":""}');
    expect(withPhoto('{"a":1}', 'enter_pic', '')).toBe('{"a":1,"enter_pic":""}');
    expect(withPhoto('{"a":1}', 'enter_pic', 'x"y')).toBe('{"a":1,"enter_pic":"x\\"y"}');
  });

  it('withPhotoBytes gives the same JSON as withPhoto with prefix + Base64, for any payload and prefix', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.oneof(fc.string({ unit: 'grapheme' }), fc.integer())),
        fc.string(),
        fc.uint8Array({ maxLength: 400 }),
        (object, prefix, bytes) => {
          const { depart_pic: _drop, ...payload } = object;
          const jpeg = Buffer.from(bytes);
          const json = JSON.stringify(payload);
          const { framed } = withPhotoBytes(json, 'depart_pic', prefix, jpeg);
          const expected = withPhoto(json, 'depart_pic', prefix + jpeg.toString('base64'));
          expect(framed.toString('utf8', 1)).toBe(expected);
          expect(framed.length - 1).toBe(Buffer.byteLength(expected));
        },
      ),
    );
    // A photo longer than one encoding piece (48 KB) joins up without padding in between.
    const big = Buffer.from(Array.from({ length: 200_001 }, (_, i) => (i * 7) % 256));
    const { framed } = withPhotoBytes(
      '{"plate_number":"鲁A12345"}',
      'enter_pic',
      'data:image/jpg;base64,',
      big,
    );
    expect(JSON.parse(framed.toString('utf8', 1))).toEqual({
      plate_number: '鲁A12345',
      enter_pic: `data:image/jpg;base64,${big.toString('base64')}`,
    });
    // Memory from the caller, one spare byte first.
    let asked = 0;
    withPhotoBytes('{}', 'enter_pic', '', Buffer.from('abc'), (n) => {
      asked = n;
      return Buffer.alloc(n);
    });
    expect(asked).toBe(1 + '{"enter_pic":"YWJj"}'.length);
  });

  it('readPushJob passes current jobs through and converts jobs enqueued by earlier versions', () => {
    const current = eventRecord(draft, 'n', '1', 1);
    const job = { kind: 'events', stream: 'entrances', records: [current] };
    expect(readPushJob(job)).toEqual(job);
    // Records with draft objects, and `force` for `resend`.
    const legacy = { key: 'n#1', time: 1, vendorKey: '1', draft: { ...draft, enter_pic: '' } };
    const read = readPushJob({ kind: 'events', stream: 'entrances', records: [legacy], force: true });
    expect(read).toEqual({
      kind: 'events',
      stream: 'entrances',
      resend: true,
      records: [{ key: 'n#1', time: 1, vendorKey: '1', lot: 'ATXL/1', payload: JSON.stringify(draft) }],
    });
    const converted = read?.kind === 'events' ? read.records[0] : undefined;
    expect(withPhoto(converted!.payload, 'enter_pic', 'x')).toBe(
      JSON.stringify({ ...draft, enter_pic: 'x' }),
    );
    // The lot job kind was called `state`.
    const item = { code: 'ATXL/2', payload: { park_code: 'ATXL/2' } };
    expect(readPushJob({ kind: 'state', stream: 'parks', isolated: { message: 'm', item } })).toEqual({
      kind: 'lots',
      stream: 'parks',
      isolated: { message: 'm', item },
    });
    // Not a push job: a poll's or the full sync's data.
    expect(readPushJob({ stream: 'parks' })).toBeUndefined();
    expect(readPushJob({ reason: 'nightly' })).toBeUndefined();
    expect(jobLots(read!)).toEqual(['ATXL/1']);
  });

  it('splitSerialized gives the same bodies with the caller’s byte lengths as without', () => {
    const texts = Array.from({ length: 250 }, (_, i) => JSON.stringify({ i, p: '鲁'.repeat(i % 7) }));
    const limits = { maxItems: 100, maxBytes: 3_000 };
    expect(
      splitSerialized(
        texts,
        limits,
        texts.map((t) => Buffer.byteLength(t)),
      ),
    ).toEqual(splitSerialized(texts, limits));
  });
});
