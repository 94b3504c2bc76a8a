/**
 * Lossless metadata strip of a JPEG: drops what a viewer does not need to show the pixels (EXIF with
 * its embedded thumbnail, XMP, maker notes, comments, MPF previews appended after the image) and
 * keeps every byte of the image itself (tables, frame, scans). What changes how pixels look stays:
 * the JFIF header, an ICC profile (APP2) and Adobe's colour-transform flag (APP14). A photo whose
 * EXIF turns it (orientation other than 1) is not stripped: without the tag it would show sideways,
 * so it is re-encoded upright instead. Reads and copies bytes only; decodes nothing.
 */

/** Header segments kept: markers, with the identifier their payload must start with. */
const KEPT_APPS: Record<number, string> = {
  224: 'JFIF\0',
  226: 'ICC_PROFILE\0',
  238: 'Adobe',
};

export interface StrippedJpeg {
  jpeg: Buffer;
  /** Bytes removed (header segments and anything after the end-of-image marker). */
  removed: number;
}

/**
 * Why a JPEG is not stripped: the caller re-encodes it instead. 'too-big': even without its
 * metadata it would stay over the size asked for (known from the headers alone when no MPF
 * segment announces images appended after the scan).
 */
export type StripRefusal = 'oriented' | 'broken' | 'too-big';

function startsWith(bytes: Buffer, at: number, id: string): boolean {
  return bytes.toString('latin1', at, at + id.length) === id;
}

/** EXIF orientation (tag 0x0112 in IFD0) of an APP1 payload starting at `at`, or undefined. */
export function exifOrientation(bytes: Buffer, at: number, end: number): number | undefined {
  if (!startsWith(bytes, at, 'Exif\0\0')) return undefined;
  const tiff = at + 6;
  if (tiff + 8 > end) return undefined;
  const little = bytes[tiff] === 0x49;
  const u16 = (i: number) => (little ? bytes.readUInt16LE(i) : bytes.readUInt16BE(i));
  const u32 = (i: number) => (little ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i));
  const ifd0 = tiff + u32(tiff + 4);
  if (ifd0 + 2 > end) return undefined;
  const count = u16(ifd0);
  for (let k = 0; k < count; k++) {
    const entry = ifd0 + 2 + k * 12;
    if (entry + 12 > end) return undefined;
    if (u16(entry) === 0x0112) return u16(entry + 8);
  }
  return undefined;
}

/**
 * Offset just past the end-of-image marker, scanning the entropy-coded data from `from` (the first
 * SOS) over every further marker (progressive scans carry tables and scans in between). Inside
 * entropy data a 0xFF is followed by 0x00 (stuffing) or a restart marker; anything else is a marker.
 */
function endOfImage(bytes: Buffer, from: number): number | undefined {
  let i = from;
  for (;;) {
    // At a marker segment (SOS, DHT, DQT, DRI, ...): skip its header.
    if (i + 4 > bytes.length) return undefined;
    i += 2 + bytes.readUInt16BE(i + 2);
    // Entropy-coded data up to the next real marker.
    for (;;) {
      const ff = bytes.indexOf(0xff, i);
      if (ff < 0 || ff + 1 >= bytes.length) return undefined;
      const next = bytes[ff + 1]!;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
        i = ff + (next === 0xff ? 1 : 2);
        continue;
      }
      if (next === 0xd9) return ff + 2;
      i = ff;
      break;
    }
  }
}

/**
 * The JPEG without its metadata segments and trailing data, or why not. Returns the input itself
 * (removed 0) when there is nothing to drop. With `maxBytes`, a photo the headers show cannot get
 * under it is refused before its scan data is read (the scan costs milliseconds on a noisy 3 MB
 * frame: every 0xFF byte in it is looked at).
 */
export function stripJpegMetadata(
  bytes: Buffer,
  maxBytes = Number.POSITIVE_INFINITY,
): StrippedJpeg | StripRefusal {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 'broken';
  const kept: Buffer[] = [bytes.subarray(0, 2)];
  let i = 2;
  let dropped = false;
  let droppedBytes = 0;
  let appended = false; // an MPF segment: more images follow the end-of-image marker
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return 'broken';
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xda) {
      if (!appended && bytes.length - droppedBytes > maxBytes) return 'too-big';
      const end = endOfImage(bytes, i);
      if (end === undefined) return 'broken';
      if (!dropped && end === bytes.length) return { jpeg: bytes, removed: 0 };
      kept.push(bytes.subarray(i, end));
      const jpeg = Buffer.concat(kept);
      return { jpeg, removed: bytes.length - jpeg.length };
    }
    const end = i + 2 + bytes.readUInt16BE(i + 2);
    if (end > bytes.length) return 'broken';
    const isApp = marker >= 0xe0 && marker <= 0xef;
    if (marker === 0xe1) {
      const orientation = exifOrientation(bytes, i + 4, end);
      if (orientation !== undefined && orientation !== 1) return 'oriented';
    }
    if (marker === 0xe2 && startsWith(bytes, i + 4, 'MPF\0')) appended = true;
    const id = KEPT_APPS[marker];
    if ((isApp && !(id && startsWith(bytes, i + 4, id))) || marker === 0xfe) {
      dropped = true;
      droppedBytes += end - i;
    } else kept.push(bytes.subarray(i, end));
    i = end;
  }
  return 'broken';
}
