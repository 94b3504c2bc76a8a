import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../../src/config/index.js';
import { photoFileReadsStuck } from '../../../src/metrics.js';
import { makeCameraJpeg } from '../../../src/sim/camera-jpeg.js';
import {
  createPhotoDispatcher,
  FILE_READS_PER_ROOT,
  loadPhoto,
  PhotoBuffers,
  type PhotoConfig,
  photoFileReads,
  photoShareProblem,
  photoToWire,
  showPhotoFileReads,
} from '../../../src/transform/photo/index.js';

const base = loadConfig({ env: {} }).photo;

async function stuckGauge(source: string): Promise<number | undefined> {
  return (await photoFileReadsStuck.get()).values.find((v) => v.labels.source === source)?.value;
}
let jpeg: Buffer;
let big: Buffer;

beforeAll(async () => {
  [jpeg, big] = await Promise.all([
    makeCameraJpeg({ width: 640, height: 360, seed: 3, quality: 80 }),
    makeCameraJpeg({ width: 1920, height: 1080, seed: 4, quality: 95 }),
  ]);
});

describe('file photos under photo.fileRoot', () => {
  let outside: string;
  let root: string;
  let photo: Config['photo'];

  beforeAll(() => {
    outside = mkdtempSync(join(tmpdir(), 'ips-photo-'));
    root = join(outside, 'pics');
    mkdirSync(join(root, '2024', '05'), { recursive: true });
    writeFileSync(join(root, '2024', '05', 'in.jpg'), jpeg);
    writeFileSync(join(root, 'big.jpg'), big);
    writeFileSync(join(root, 'empty.jpg'), Buffer.alloc(0));
    writeFileSync(join(root, 'text.jpg'), 'this is not a photo\n');
    writeFileSync(join(root, 'cut.jpg'), big.subarray(0, big.length >> 1));
    writeFileSync(join(outside, 'secret.jpg'), jpeg);
    symlinkSync(join(outside, 'secret.jpg'), join(root, 'link-out.jpg'));
    symlinkSync(outside, join(root, 'dir-out'));
    symlinkSync(join(root, '2024', '05', 'in.jpg'), join(root, 'link-in.jpg'));
    photo = { ...base, fileRoot: root };
  });

  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  it('reads relative, absolute and Windows-style paths inside the root', async () => {
    for (const path of [
      '2024/05/in.jpg',
      '2024\\05\\in.jpg',
      join(root, '2024/05/in.jpg'),
      ' 2024/05/in.jpg ',
      'link-in.jpg',
    ]) {
      const input = await loadPhoto(path, 'file', photo);
      expect(input).toMatchObject({ ok: true });
      expect((input as { bytes: Buffer }).bytes.equals(jpeg)).toBe(true);
    }
    const wire = await photoToWire('2024/05/in.jpg', 'file', photo);
    expect(wire).toMatchObject({ ok: true, outcome: 'passthrough' });
    const fitted = await photoToWire('big.jpg', 'file', photo);
    expect(fitted).toMatchObject({ ok: true, outcome: 'reencoded' });
  });

  it.each([
    ['../../etc/passwd', 'refused', 'outside photo.fileRoot'],
    ['/etc/passwd', 'refused', 'outside photo.fileRoot'],
    ['2024/../../secret.jpg', 'refused', 'outside photo.fileRoot'],
    ['link-out.jpg', 'refused', 'symlink'],
    ['dir-out/secret.jpg', 'refused', 'symlink'],
    ['2024', 'refused', 'not a regular file'],
    ['missing.jpg', 'missing', 'does not exist'],
    ['', 'missing', 'empty path'],
  ])('%j is %s', async (path, outcome, words) => {
    const input = await loadPhoto(path, 'file', photo);
    expect(input).toMatchObject({ ok: false, outcome });
    expect((input as { message: string }).message).toContain(words);
  });

  it.each([
    ['empty.jpg', 'corrupt'],
    ['text.jpg', 'corrupt'],
    ['cut.jpg', 'corrupt'],
    ['../../etc/passwd', 'refused'],
    ['missing.jpg', 'missing'],
  ])(
    '%j gives the photo outcome %s (empty string by default, quarantine if configured)',
    async (path, outcome) => {
      expect(await photoToWire(path, 'file', photo)).toMatchObject({ ok: true, value: '', outcome });
      const strict = { ...photo, onMissing: 'quarantine' as const };
      expect(await photoToWire(path, 'file', strict)).toMatchObject({
        ok: false,
        outcome,
        reason: { code: `${outcome}-photo`, field: 'photo' },
      });
    },
  );

  it('refuses file photos when no root is configured, and files over the size cap', async () => {
    expect(await loadPhoto('2024/05/in.jpg', 'file', base)).toMatchObject({
      ok: false,
      outcome: 'refused',
      message: expect.stringContaining('photo.fileRoot is not set'),
    });
    expect(await loadPhoto('big.jpg', 'file', { ...photo, maxInputBytes: 1000 })).toMatchObject({
      ok: false,
      outcome: 'refused',
      message: expect.stringContaining('maxInputBytes'),
    });
  });
});

describe('photo.fileRoot re-pointed or gone while running', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ips-photo-root-'));
    for (const [share, photo] of [
      ['a', jpeg],
      ['b', big],
    ] as const) {
      mkdirSync(join(dir, share));
      writeFileSync(join(dir, share, 'cam.jpg'), photo);
    }
    symlinkSync(join(dir, 'a'), join(dir, 'root'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows the root to its new place, and says so when it is gone (retryable)', async () => {
    const photo = { ...base, fileRoot: join(dir, 'root') };
    const first = await loadPhoto('cam.jpg', 'file', photo);
    expect((first as { bytes: Buffer }).bytes.equals(jpeg)).toBe(true);
    // The resolved root is kept between photos: a re-pointed root is not taken for a symlink out.
    rmSync(join(dir, 'root'));
    symlinkSync(join(dir, 'b'), join(dir, 'root'));
    const moved = await loadPhoto('cam.jpg', 'file', photo);
    expect(moved).toMatchObject({ ok: true });
    expect((moved as { bytes: Buffer }).bytes.equals(big)).toBe(true);
    // A share unmounted: the event waits for it (retryable), it is not sent as "photo does not exist".
    rmSync(join(dir, 'root'));
    expect(await loadPhoto('cam.jpg', 'file', photo)).toMatchObject({
      ok: false,
      outcome: 'missing',
      retryable: true,
      message: expect.stringContaining('is not readable (ENOENT)'),
    });
  });
});

describe('file photos that would block', () => {
  let root: string;
  let photo: Config['photo'];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ips-photo-fifo-'));
    execFileSync('mkfifo', [join(root, 'camera.jpg')]);
    writeFileSync(join(root, 'plain.jpg'), jpeg);
    photo = { ...base, fileRoot: root, fileTimeoutMs: 1_500 };
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const started = Date.now();
    const input = await loadPhoto('camera.jpg', 'file', photo);
    expect(input).toMatchObject({ ok: false, outcome: 'refused', retryable: false });
    expect((input as { message: string }).message).toContain('not a regular file');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await loadPhoto('/dev/zero', 'file', { ...photo, fileRoot: '/dev' })).toMatchObject({
      ok: false,
      outcome: 'refused',
    });
  });

  it('gives up on a file system that does not answer, holds at most two of its threads, and reads again once it does', async () => {
    // A hung mount, for real: every libuv file thread of this process is held by an open() of the
    // FIFO without a writer, so the photo's own file calls cannot run until they are let go.
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const fifo = join(root, 'camera.jpg');
    const held = Array.from({ length: threads }, () => open(fifo, 'r'));
    const other = mkdtempSync(join(tmpdir(), 'ips-photo-other-'));
    try {
      // Five photos of the share at once: each gives up at photo.fileTimeoutMs, but only two
      // file reads were started there, so only two threads stay with the share.
      const started = Date.now();
      const inputs = await Promise.all(
        Array.from({ length: 5 }, () => loadPhoto('plain.jpg', 'file', photo)),
      );
      const waited = Date.now() - started;
      for (const input of inputs) {
        expect(input).toMatchObject({ ok: false, outcome: 'missing', retryable: true });
        expect((input as { message: string }).message).toContain('photo.fileTimeoutMs');
      }
      expect(waited).toBeGreaterThanOrEqual(1_400);
      expect(waited).toBeLessThan(4_000);
      expect(photoFileReads(root)).toMatchObject({
        running: FILE_READS_PER_ROOT,
        stuck: FILE_READS_PER_ROOT,
      });
      // What the operator sees: /readyz `photos` (informational) and the gauge on /metrics.
      expect(photoShareProblem(photo)).toMatch(
        /^photo\.fileRoot .*: 2 file read\(s\) have not returned for \d+ s \(photo\.fileTimeoutMs \d+\); .*Check the mount/,
      );
      expect(photoShareProblem({ ...photo, fileRoot: other })).toBeUndefined();
      showPhotoFileReads('hung-share', photo);
      expect(await stuckGauge('hung-share')).toBe(FILE_READS_PER_ROOT);

      // While they are stuck, the share gets no new read: the answer is at once, and says why.
      const quick = Date.now();
      const refused = await loadPhoto('plain.jpg', 'file', photo);
      expect(Date.now() - quick).toBeLessThan(200);
      expect(refused).toMatchObject({ ok: false, outcome: 'missing', retryable: true });
      expect((refused as { message: string }).message).toMatch(
        /photo\.fileRoot .* has 2 file read\(s\) that have not returned .* Is the photo share mounted/,
      );
      // Another root (another source's share) is not refused for it: its read is tried.
      writeFileSync(join(other, 'plain.jpg'), jpeg);
      const elsewhere = await loadPhoto('plain.jpg', 'file', { ...photo, fileRoot: other });
      expect((elsewhere as { message: string }).message).toContain('did not answer within');
    } finally {
      // A writer from another process (spawn needs no file thread) lets the held opens finish.
      for (let i = 0; i < threads; i++) {
        await new Promise((resolve) => spawn('sh', ['-c', `: > '${fifo}'`]).once('exit', resolve));
      }
      for (const handle of await Promise.all(held)) await handle.close();
    }
    // The stuck reads return once the threads are free; then the share is read again.
    const deadline = Date.now() + 5_000;
    while (photoFileReads(root).stuck > 0 || photoFileReads(other).stuck > 0) {
      if (Date.now() > deadline)
        throw new Error(`reads still stuck: ${JSON.stringify(photoFileReads(root))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(photoFileReads(root)).toEqual({ running: 0, stuck: 0 });
    expect(photoShareProblem(photo)).toBeUndefined();
    showPhotoFileReads('hung-share', photo);
    expect(await stuckGauge('hung-share')).toBe(0);
    photoFileReadsStuck.remove({ source: 'hung-share' });
    expect(await loadPhoto('plain.jpg', 'file', photo)).toMatchObject({ ok: true });
    expect(await loadPhoto('plain.jpg', 'file', { ...photo, fileRoot: other })).toMatchObject({ ok: true });
    rmSync(other, { recursive: true, force: true });
  });
});

describe('URL photos', () => {
  let server: Server;
  let port: number;
  const requests: string[] = [];
  const dispatcher = new Agent({ keepAliveTimeout: 100 });

  function route(req: IncomingMessage, res: ServerResponse): void {
    requests.push(`${req.headers.host} ${req.url}`);
    const url = req.url ?? '';
    if (url.startsWith('/ok.jpg')) {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg);
    } else if (url === '/big.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(big);
    } else if (url === '/declared-huge') {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      res.write(jpeg.subarray(0, 100));
    } else if (url === '/endless') {
      // No content-length: a body that never ends must be cut at the cap.
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (res.write(chunk)) if (res.writableLength > 1e6) break;
      };
      res.on('drain', pump);
      pump();
      req.on('close', () => res.destroy());
    } else if (url === '/slow') {
      setTimeout(() => res.writeHead(200).end(jpeg), 5_000).unref();
    } else if (url === '/redirect-same') {
      res.writeHead(302, { location: '/ok.jpg' }).end();
    } else if (url === '/redirect-away') {
      res.writeHead(302, { location: `http://localhost:${port}/ok.jpg?from=redirect` }).end();
    } else if (url === '/redirect-loop') {
      res.writeHead(302, { location: '/redirect-loop' }).end();
    } else if (url === '/boom') {
      res.writeHead(503).end('busy');
    } else {
      res.writeHead(404).end('not found');
    }
  }

  beforeAll(async () => {
    server = createServer(route);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await dispatcher.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const photo = () => ({
    ...base,
    urlAllowHosts: ['127.0.0.1'],
    urlTimeoutMs: 1_000,
    maxInputBytes: 2 * 1024 * 1024,
  });
  const url = (path: string, host = '127.0.0.1') => `http://${host}:${port}${path}`;

  it('fetches from an allowed host (by name or name:port) and follows redirects on it', async () => {
    for (const [path, allow] of [
      ['/ok.jpg', ['127.0.0.1']],
      ['/ok.jpg?token=abc', [`127.0.0.1:${port}`]],
      ['/redirect-same', ['127.0.0.1']],
    ] as const) {
      const input = await loadPhoto(
        url(path),
        'url',
        { ...photo(), urlAllowHosts: [...allow] },
        { dispatcher },
      );
      expect(input).toMatchObject({ ok: true });
      expect((input as { bytes: Buffer }).bytes.equals(jpeg)).toBe(true);
    }
    expect(await photoToWire(url('/big.jpg'), 'url', photo(), { dispatcher })).toMatchObject({
      ok: true,
      outcome: 'reencoded',
    });
  });

  it('refuses a host not on the list without making a request', async () => {
    const before = requests.length;
    const input = await loadPhoto(url('/ok.jpg', 'localhost'), 'url', photo(), { dispatcher });
    expect(input).toMatchObject({ ok: false, outcome: 'refused', retryable: false });
    expect((input as { message: string }).message).toContain('not on photo.urlAllowHosts');
    expect(
      await loadPhoto(url('/ok.jpg'), 'url', { ...photo(), urlAllowHosts: [] }, { dispatcher }),
    ).toMatchObject({
      outcome: 'refused',
    });
    for (const bad of ['file:///etc/passwd', 'ftp://127.0.0.1/x.jpg', 'not a url']) {
      expect(await loadPhoto(bad, 'url', photo(), { dispatcher })).toMatchObject({
        ok: false,
        outcome: 'refused',
      });
    }
    expect(requests.length).toBe(before);
  });

  it('refuses a redirect to a host not on the list, and does not follow it', async () => {
    const before = requests.length;
    const input = await loadPhoto(url('/redirect-away'), 'url', photo(), { dispatcher });
    expect(input).toMatchObject({ ok: false, outcome: 'refused' });
    expect((input as { message: string }).message).toContain('redirected to');
    expect((input as { message: string }).message).not.toContain('from=redirect'); // no query strings in messages
    expect(requests.slice(before)).toEqual([`127.0.0.1:${port} /redirect-away`]);
    expect(await loadPhoto(url('/redirect-loop'), 'url', photo(), { dispatcher })).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('redirected more than'),
    });
  });

  it('cuts a body over photo.maxInputBytes, declared or not', async () => {
    expect(await loadPhoto(url('/declared-huge'), 'url', photo(), { dispatcher })).toMatchObject({
      ok: false,
      outcome: 'refused',
      message: expect.stringContaining('declares'),
    });
    expect(await loadPhoto(url('/endless'), 'url', photo(), { dispatcher })).toMatchObject({
      ok: false,
      outcome: 'refused',
      message: expect.stringContaining('cut'),
    });
  });

  it('times out, and marks timeouts and 5xx retryable but 404 not', async () => {
    const started = Date.now();
    expect(
      await loadPhoto(url('/slow'), 'url', { ...photo(), urlTimeoutMs: 300 }, { dispatcher }),
    ).toMatchObject({
      ok: false,
      outcome: 'missing',
      retryable: true,
      message: expect.stringContaining('timed out after 300 ms'),
    });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await loadPhoto(url('/boom'), 'url', photo(), { dispatcher })).toMatchObject({
      outcome: 'missing',
      retryable: true,
    });
    expect(await loadPhoto(url('/nope.jpg'), 'url', photo(), { dispatcher })).toMatchObject({
      outcome: 'missing',
      retryable: false,
      message: expect.stringContaining('HTTP 404'),
    });
    expect(await photoToWire(url('/nope.jpg'), 'url', photo(), { dispatcher })).toMatchObject({
      ok: true,
      value: '',
      outcome: 'missing',
    });
  });

  it('reports a refused connection as a retryable missing photo', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(
      await loadPhoto(`http://127.0.0.1:${deadPort}/x.jpg`, 'url', photo(), { dispatcher }),
    ).toMatchObject({ ok: false, outcome: 'missing', retryable: true });
  });
});

describe('URL photos through the worker’s dispatcher', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const delay = req.url?.startsWith('/hang.jpg') ? 60_000 : 20;
      const timer = setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
      }, delay);
      req.on('close', () => {
        if (!res.writableEnded) {
          clearTimeout(timer);
          inFlight--;
        }
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const photo = (o: Partial<PhotoConfig> = {}): PhotoConfig => ({
    ...base,
    urlAllowHosts: ['127.0.0.1'],
    fetchConcurrency: 3,
    urlTimeoutMs: 2_000,
    ...o,
  });

  it('reuses its connections: 40 photos, at most photo.fetchConcurrency connections, never more at once', async () => {
    const dispatcher = createPhotoDispatcher(photo());
    connections = 0;
    maxInFlight = 0;
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          loadPhoto(`http://127.0.0.1:${port}/${i}.jpg`, 'url', photo(), { dispatcher }),
        ),
      );
      expect(results.every((r) => r.ok && r.bytes.equals(jpeg))).toBe(true);
      for (let i = 0; i < 10; i++) {
        expect(
          await loadPhoto(`http://127.0.0.1:${port}/s${i}.jpg`, 'url', photo(), { dispatcher }),
        ).toMatchObject({
          ok: true,
        });
      }
      expect(connections).toBeLessThanOrEqual(3);
      expect(maxInFlight).toBeLessThanOrEqual(3);
    } finally {
      await dispatcher.close();
    }
  });

  it('a camera server that never answers: a timeout naming the URL and the setting, retryable (the event waits, then goes without)', async () => {
    const dispatcher = createPhotoDispatcher(photo({ urlTimeoutMs: 300 }));
    try {
      const started = Date.now();
      const input = await loadPhoto(
        `http://127.0.0.1:${port}/hang.jpg?key=secret`,
        'url',
        photo({ urlTimeoutMs: 300 }),
        {
          dispatcher,
        },
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(input).toMatchObject({
        ok: false,
        outcome: 'missing',
        retryable: true,
        message: `photo URL http://127.0.0.1:${port}/hang.jpg timed out after 300 ms`,
      });
      // The wire form keeps the event: an empty photo under onMissing 'empty', marked retryable so
      // the push waits a few attempts first (src/pipeline/events/push-deps.ts).
      const wire = await photoToWire(
        `http://127.0.0.1:${port}/hang.jpg`,
        'url',
        photo({ urlTimeoutMs: 300 }),
        {
          dispatcher,
        },
      );
      expect(wire).toMatchObject({ ok: true, value: '', jpeg: null, retryable: true });
    } finally {
      await dispatcher.close();
    }
  });

  it('reads files and URLs into reusable memory when given it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ips-photo-pool-'));
    writeFileSync(join(root, 'in.jpg'), jpeg);
    try {
      const buffers = new PhotoBuffers(1024 * 1024, 4 * 1024 * 1024);
      const config = photo({ fileRoot: root });
      const a = await loadPhoto('in.jpg', 'file', config, { buffers });
      if (!a.ok) throw new Error(a.message);
      buffers.give(a.bytes);
      const b = await loadPhoto('in.jpg', 'file', config, { buffers });
      expect(b.ok && b.bytes.equals(jpeg) && b.bytes.buffer === a.bytes.buffer).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a URL photo read into reusable memory', async () => {
    const dispatcher = createPhotoDispatcher(photo());
    const buffers = new PhotoBuffers(1024 * 1024, 4 * 1024 * 1024);
    try {
      const first = await loadPhoto(`http://127.0.0.1:${port}/a.jpg`, 'url', photo(), {
        dispatcher,
        buffers,
      });
      if (!first.ok) throw new Error(first.message);
      expect(first.bytes.equals(jpeg)).toBe(true);
      buffers.give(first.bytes);
      const second = await loadPhoto(`http://127.0.0.1:${port}/b.jpg`, 'url', photo(), {
        dispatcher,
        buffers,
      });
      expect(second.ok && second.bytes.buffer === first.bytes.buffer).toBe(true);
      expect(buffers.stats()).toMatchObject({ allocated: 1, reused: 1 });
    } finally {
      await dispatcher.close();
    }
  });
});
