/**
 * The decode-photos switch: every non-empty photo of a batch is taken apart as ISP's side would
 * have to, Base64 (strictly, as Java's decoder is) to bytes, then the bytes decoded as a JPEG to
 * pixels. The spec's schema only checks the Base64 alphabet and the size, so a truncated or
 * mislabelled photo passes it; this does not.
 */
import sharp from 'sharp';
import type { RecordKind, WireRecord } from './kinds.js';
import { KINDS } from './kinds.js';

const DATA_URI_PREFIX = /^data:image\/[a-z]+;base64,/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Every JPEG starts with SOI (FF D8) followed by a marker. */
const JPEG_START = [0xff, 0xd8, 0xff];
/** Problems listed in one answer; the rest are counted. */
const MAX_LISTED = 10;

/** Why the photo is not a decodable JPEG, or undefined when it is one. */
export async function jpegProblem(value: string): Promise<string | undefined> {
  const text = value.replace(DATA_URI_PREFIX, '');
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    return `is not valid Base64 (${text.length % 4 !== 0 ? 'length not a multiple of 4' : 'characters outside the alphabet'})`;
  }
  const bytes = Buffer.from(text, 'base64');
  if (!JPEG_START.every((byte, i) => bytes[i] === byte)) {
    const head = bytes.subarray(0, 4).toString('hex') || 'nothing';
    return `is not a JPEG: its bytes start ${head}, not ffd8ff`;
  }
  try {
    // 'truncated' refuses a cut-off image (libjpeg would otherwise pad it with grey), as a decoder
    // that must produce the whole picture would; harmless warnings (extraneous bytes) pass.
    await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer();
    return undefined;
  } catch (error) {
    const first = String((error as Error).message).split('\n')[0];
    return `does not decode as a JPEG (${bytes.length} bytes): ${first}`;
  }
}

/** The code 1 message for a batch with photos that do not decode, or undefined when all do. */
export async function photosProblem(
  kind: RecordKind,
  records: readonly WireRecord[],
): Promise<string | undefined> {
  const field = KINDS[kind].photoField;
  if (!field) return undefined;
  const problems = await Promise.all(
    records.map(async (record, index) => {
      const value = record[field];
      if (typeof value !== 'string' || value === '') return undefined;
      const problem = await jpegProblem(value);
      return problem && `[${index}].${field}: ${problem}`;
    }),
  );
  const found = problems.filter((p): p is string => p !== undefined);
  if (found.length === 0) return undefined;
  const more = found.length - MAX_LISTED;
  return (
    found.slice(0, MAX_LISTED).join('; ') + (more > 0 ? `; and ${more} more photo${more > 1 ? 's' : ''}` : '')
  );
}
