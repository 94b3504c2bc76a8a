/**
 * Camera-like JPEGs for the simulator, tests and benchmarks: a parking-gate scene (sky and asphalt
 * gradients, buildings, a car with a blue licence-plate-like rectangle) plus moderate sensor noise, so
 * the encoded size behaves like a real camera frame: 1920×1080 at the default quality 95 ≈ 1.1 MB
 * (detail 2 ≈ 1.5 MB); quality 75 or 1280×720 at 85 give ~250 KB variants. Deterministic per seed:
 * same options → same bytes (with the same sharp/librsvg build and fonts). The options also give what
 * real cameras write besides: progressive scans, 4:4:4 or 4:2:0 chroma, CMYK, and an EXIF block with
 * an embedded thumbnail (built by hand: sharp writes EXIF tags, never a thumbnail).
 *
 * Owns only synthetic image making; must not read or write files, or touch the network.
 */
import sharp from 'sharp';

export type CameraJpegOptions = {
  width: number;
  height: number;
  /** Varies the scene layout, colours and noise; same seed → same bytes. @defaultValue 1 */
  seed?: number;
  /** JPEG quality 1–100. @defaultValue 95 */
  quality?: number;
  /**
   * Amount of fine detail (sensor noise amplitude and texture), 0–2. 1 is a typical daylight camera;
   * 0 a clean, smooth frame (much smaller files); 2 a noisy night frame (larger files). @defaultValue 1
   */
  detail?: number;
  /** Chroma subsampling. @defaultValue '4:4:4' at quality ≥ 90, else '4:2:0' */
  chroma?: '4:4:4' | '4:2:0';
  /** Progressive scans instead of one baseline scan. @defaultValue false */
  progressive?: boolean;
  /** CMYK instead of YCbCr (as some print-oriented capture tools write). @defaultValue false */
  cmyk?: boolean;
  /** An EXIF block (APP1) with camera tags and a thumbnail of the frame, as cameras write. */
  exif?: ExifOptions;
};

export type ExifOptions = {
  /** Width of the embedded thumbnail; 0 for tags only. @defaultValue 320 */
  thumbnailWidth?: number;
  /** EXIF orientation tag (1 = upright, 6 = rotate 90° clockwise to view). @defaultValue 1 */
  orientation?: number;
};

/** mulberry32: tiny, fast, deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

function hsl(h: number, s: number, l: number): string {
  return `hsl(${h.toFixed(0)},${s.toFixed(0)}%,${l.toFixed(0)}%)`;
}

function sceneSvg(width: number, height: number, rnd: () => number): string {
  const W = width;
  const H = height;
  const horizon = H * (0.35 + rnd() * 0.1);
  const parts: string[] = [];
  const skyHue = 195 + rnd() * 30;
  parts.push(`<defs>
  <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="${hsl(skyHue, 55, 55 + rnd() * 15)}"/>
    <stop offset="1" stop-color="${hsl(skyHue - 10, 30, 85)}"/>
  </linearGradient>
  <linearGradient id="road" x1="0" y1="0" x2="0.3" y2="1">
    <stop offset="0" stop-color="${hsl(30, 5, 48)}"/>
    <stop offset="1" stop-color="${hsl(30, 4, 28)}"/>
  </linearGradient>
  <linearGradient id="body" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="${hsl(rnd() * 360, 40 + rnd() * 40, 55)}"/>
    <stop offset="1" stop-color="${hsl(rnd() * 360, 30, 22)}"/>
  </linearGradient>
  <radialGradient id="glare" cx="0.8" cy="0.1" r="0.6">
    <stop offset="0" stop-color="white" stop-opacity="0.55"/>
    <stop offset="1" stop-color="white" stop-opacity="0"/>
  </radialGradient>
</defs>`);
  parts.push(`<rect width="${W}" height="${horizon}" fill="url(#sky)"/>`);
  // Skyline: buildings with window grids (edges are what JPEG spends bytes on).
  let x = -rnd() * 50;
  while (x < W) {
    const bw = W * (0.05 + rnd() * 0.1);
    const bh = horizon * (0.3 + rnd() * 0.6);
    const top = horizon - bh;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="${hsl(20 + rnd() * 40, 10 + rnd() * 15, 35 + rnd() * 35)}"/>`,
    );
    const win = Math.max(4, bw / 8);
    for (let wy = top + win; wy < horizon - win; wy += win * 2) {
      for (let wx = x + win * 0.7; wx < x + bw - win; wx += win * 1.6) {
        parts.push(
          `<rect x="${wx.toFixed(1)}" y="${wy.toFixed(1)}" width="${(win * 0.8).toFixed(1)}" height="${win.toFixed(1)}" fill="${hsl(210, 20, 20 + rnd() * 50)}"/>`,
        );
      }
    }
    x += bw + rnd() * 20;
  }
  parts.push(
    `<rect y="${horizon.toFixed(1)}" width="${W}" height="${(H - horizon).toFixed(1)}" fill="url(#road)"/>`,
  );
  // Lane markings and a gate barrier.
  for (let i = 0; i < 6; i++) {
    const ly = horizon + ((H - horizon) * (i + 0.5)) / 6;
    parts.push(
      `<rect x="${(W * 0.48).toFixed(1)}" y="${ly.toFixed(1)}" width="${(W * 0.04).toFixed(1)}" height="${(H * 0.02).toFixed(1)}" fill="#e8e4d0" transform="rotate(${(rnd() * 4 - 2).toFixed(1)} ${W / 2} ${ly.toFixed(1)})"/>`,
    );
  }
  parts.push(
    `<rect x="${(W * 0.05).toFixed(1)}" y="${(horizon - H * 0.05).toFixed(1)}" width="${(W * 0.04).toFixed(1)}" height="${(H * 0.25).toFixed(1)}" fill="#ddd" stroke="#333" stroke-width="2"/>`,
  );
  parts.push(
    `<rect x="${(W * 0.09).toFixed(1)}" y="${(horizon + H * 0.02).toFixed(1)}" width="${(W * 0.45).toFixed(1)}" height="${(H * 0.015).toFixed(1)}" fill="#d33"/>`,
  );
  // The car, centred-ish and large as a gate camera sees it.
  const cw = W * (0.45 + rnd() * 0.1);
  const ch = H * (0.42 + rnd() * 0.08);
  const cx = (W - cw) / 2 + (rnd() - 0.5) * W * 0.1;
  const cy = H - ch - H * 0.04;
  parts.push(
    `<ellipse cx="${(cx + cw / 2).toFixed(1)}" cy="${(cy + ch).toFixed(1)}" rx="${(cw * 0.55).toFixed(1)}" ry="${(H * 0.03).toFixed(1)}" fill="#111" opacity="0.6"/>`,
  );
  parts.push(
    `<path d="M${cx.toFixed(1)},${(cy + ch * 0.45).toFixed(1)} Q${(cx + cw * 0.08).toFixed(1)},${(cy + ch * 0.12).toFixed(1)} ${(cx + cw * 0.25).toFixed(1)},${(cy + ch * 0.05).toFixed(1)} L${(cx + cw * 0.75).toFixed(1)},${(cy + ch * 0.05).toFixed(1)} Q${(cx + cw * 0.92).toFixed(1)},${(cy + ch * 0.12).toFixed(1)} ${(cx + cw).toFixed(1)},${(cy + ch * 0.45).toFixed(1)} L${(cx + cw).toFixed(1)},${(cy + ch * 0.95).toFixed(1)} L${cx.toFixed(1)},${(cy + ch * 0.95).toFixed(1)} Z" fill="url(#body)" stroke="#222" stroke-width="3"/>`,
  );
  parts.push(
    `<path d="M${(cx + cw * 0.14).toFixed(1)},${(cy + ch * 0.42).toFixed(1)} L${(cx + cw * 0.27).toFixed(1)},${(cy + ch * 0.12).toFixed(1)} L${(cx + cw * 0.73).toFixed(1)},${(cy + ch * 0.12).toFixed(1)} L${(cx + cw * 0.86).toFixed(1)},${(cy + ch * 0.42).toFixed(1)} Z" fill="${hsl(205, 25, 25 + rnd() * 15)}" stroke="#111" stroke-width="4"/>`,
  );
  for (const side of [0.1, 0.78]) {
    parts.push(
      `<rect x="${(cx + cw * side).toFixed(1)}" y="${(cy + ch * 0.55).toFixed(1)}" width="${(cw * 0.12).toFixed(1)}" height="${(ch * 0.08).toFixed(1)}" rx="8" fill="#f5f1d8" stroke="#444" stroke-width="3"/>`,
    );
  }
  parts.push(
    `<rect x="${(cx + cw * 0.3).toFixed(1)}" y="${(cy + ch * 0.56).toFixed(1)}" width="${(cw * 0.4).toFixed(1)}" height="${(ch * 0.1).toFixed(1)}" fill="#1a1a1a"/>`,
  );
  // Licence plate: blue (or green for new energy) with white characters.
  const pw = cw * 0.26;
  const ph = pw * 0.32;
  const px = cx + (cw - pw) / 2;
  const py = cy + ch * 0.74;
  const green = rnd() < 0.3;
  // ASCII only: CJK fonts may be missing where this runs, and a tofu box would look wrong.
  const plateText = `${LETTERS[Math.floor(rnd() * LETTERS.length)]}${LETTERS[Math.floor(rnd() * LETTERS.length)]}·${Array.from({ length: green ? 6 : 5 }, () => '0123456789ABCDEFGHJK'[Math.floor(rnd() * 20)]).join('')}`;
  parts.push(
    `<rect x="${px.toFixed(1)}" y="${py.toFixed(1)}" width="${pw.toFixed(1)}" height="${ph.toFixed(1)}" rx="${(ph * 0.1).toFixed(1)}" fill="${green ? '#3fae6a' : '#1447b4'}" stroke="#eee" stroke-width="${Math.max(2, ph * 0.05).toFixed(1)}"/>`,
  );
  parts.push(
    `<text x="${(px + pw / 2).toFixed(1)}" y="${(py + ph * 0.68).toFixed(1)}" font-family="sans-serif" font-weight="bold" font-size="${(ph * 0.5).toFixed(1)}" text-anchor="middle" fill="${green ? '#111' : '#fff'}">${plateText}</text>`,
  );
  // Timestamp overlay like a real camera.
  const fs = Math.max(10, H * 0.03);
  parts.push(
    `<text x="${(W * 0.02).toFixed(1)}" y="${(fs * 1.4).toFixed(1)}" font-family="monospace" font-size="${fs.toFixed(1)}" fill="#fff" stroke="#000" stroke-width="1">2024-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 10)} 0${Math.floor(rnd() * 10)}:${10 + Math.floor(rnd() * 50)}:${10 + Math.floor(rnd() * 50)} CAM-${Math.floor(rnd() * 90 + 10)}</text>`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="url(#glare)"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}

/**
 * A camera-like JPEG (see module comment). `detail` scales the sensor noise; size in bytes grows with
 * width×height, quality and detail.
 */
export async function makeCameraJpeg(options: CameraJpegOptions): Promise<Buffer> {
  const width = Math.max(16, Math.round(options.width));
  const height = Math.max(16, Math.round(options.height));
  const quality = Math.min(100, Math.max(1, Math.round(options.quality ?? 95)));
  const detail = Math.min(2, Math.max(0, options.detail ?? 1));
  const seed = options.seed ?? 1;
  const rnd = prng(seed);
  const svg = sceneSvg(width, height, rnd);
  const { data, info } = await sharp(Buffer.from(svg), { limitInputPixels: false })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  // Sensor noise: luminance-correlated Gaussian-ish noise (sum of uniforms), plus a little chroma noise.
  const channels = info.channels;
  const amp = 15 * detail;
  if (amp > 0) {
    const noise = prng(seed ^ 0x5bd1e995);
    // A clamped view: assignments saturate at 0 and 255 instead of wrapping.
    const px = new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < px.length; i += channels) {
      const n = (noise() + noise() + noise() - 1.5) * amp;
      const c = (noise() - 0.5) * amp * 0.35;
      for (let k = 0; k < channels; k++) {
        const v = px[i + k]! + n + (k === 2 ? c : k === 0 ? -c : 0);
        px[i + k] = v;
      }
    }
  }
  let image = sharp(data, { raw: { width: info.width, height: info.height, channels } });
  if (options.cmyk) image = image.toColourspace('cmyk');
  const jpeg = await image
    .jpeg({
      quality,
      chromaSubsampling: options.chroma ?? (quality >= 90 ? '4:4:4' : '4:2:0'),
      progressive: options.progressive ?? false,
      mozjpeg: false,
    })
    .toBuffer();
  return options.exif ? withExif(jpeg, await exifBlock(jpeg, options.exif)) : jpeg;
}

/** A TIFF (little-endian) IFD: entries of [tag, type, count, value or offset], then the next IFD's offset. */
function ifd(entries: [tag: number, type: number, count: number, value: number][], next: number): Buffer {
  const out = Buffer.alloc(2 + entries.length * 12 + 4);
  out.writeUInt16LE(entries.length, 0);
  entries.forEach(([tag, type, count, value], i) => {
    const at = 2 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(count, at + 4);
    if (type === 3 && count === 1) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
  });
  out.writeUInt32LE(next, out.length - 4);
  return out;
}

const SHORT = 3;
const LONG = 4;
const ASCII = 2;

/**
 * The APP1 segment of a camera: "Exif\0\0", a TIFF header, IFD0 (Make, Model, Orientation) and IFD1
 * holding a JPEG thumbnail of the frame (JPEGInterchangeFormat / ...Length), all under the 64 KB a
 * segment can hold (the thumbnail's quality is lowered until it fits).
 */
async function exifBlock(jpeg: Buffer, options: ExifOptions): Promise<Buffer> {
  const thumbWidth = options.thumbnailWidth ?? 320;
  let thumb = Buffer.alloc(0);
  for (let q = 90; thumbWidth > 0; q -= 10) {
    thumb = await sharp(jpeg).resize(thumbWidth).jpeg({ quality: q, chromaSubsampling: '4:2:0' }).toBuffer();
    if (thumb.length < 60_000 || q <= 30) break;
  }
  const make = Buffer.from('SIMCAM\0', 'latin1');
  const model = Buffer.from('GATE-2560\0', 'latin1');
  // Layout after the 8-byte TIFF header: IFD0 (3 entries), IFD1 (3 entries), strings, thumbnail.
  const ifd0Size = 2 + 3 * 12 + 4;
  const ifd1Size = 2 + 3 * 12 + 4;
  const ifd1At = 8 + ifd0Size;
  const makeAt = ifd1At + ifd1Size;
  const modelAt = makeAt + make.length;
  const thumbAt = modelAt + model.length;
  const tiff = Buffer.concat([
    Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]),
    ifd(
      [
        [0x010f, ASCII, make.length, makeAt],
        [0x0110, ASCII, model.length, modelAt],
        [0x0112, SHORT, 1, options.orientation ?? 1],
      ],
      thumb.length ? ifd1At : 0,
    ),
    ifd(
      [
        [0x0103, SHORT, 1, 6], // Compression: JPEG
        [0x0201, LONG, 1, thumbAt],
        [0x0202, LONG, 1, thumb.length],
      ],
      0,
    ),
    make,
    model,
    thumb,
  ]);
  return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
}

/** The JPEG with an APP1 segment holding `exif` right after its start-of-image marker. */
export function withExif(jpeg: Buffer, exif: Buffer): Buffer {
  if (exif.length + 2 > 0xffff)
    throw new RangeError(`an EXIF segment holds at most 65533 bytes, got ${exif.length}`);
  const header = Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(exif.length + 2, 4);
  return Buffer.concat([header, exif, jpeg.subarray(2)]);
}
