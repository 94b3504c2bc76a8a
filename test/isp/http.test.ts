/**
 * ISP answers are read only up to the cap: a raw node:http server answering an endless body (and
 * one announcing a huge Content-Length) gets its connection dropped once 64 KiB are read, and the
 * request returns at once instead of reading on until the timeout.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IspHttp } from '../../src/isp/http.js';

const CAP = 64 * 1024;
let server: Server | undefined;
let http: IspHttp | undefined;
afterEach(async () => {
  await http?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
  http = undefined;
});

/** A server whose answer never ends (or is announced as 1 GiB); reports how much it wrote. */
async function hugeAnswer(announce: boolean) {
  const seen = { written: 0, closed: false };
  server = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(announce ? { 'content-length': String(1024 ** 3) } : {}),
    });
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const pump = () => {
      while (!res.destroyed && seen.written < 1024 ** 3) {
        seen.written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    res.on('close', () => {
      seen.closed = true;
    });
    pump();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}

describe('IspHttp answer cap', () => {
  for (const announce of [false, true]) {
    it(`stops reading at 64 KiB and drops the connection (${announce ? 'huge Content-Length' : 'endless body'})`, async () => {
      const { url, seen } = await hugeAnswer(announce);
      http = new IspHttp({ baseUrl: url, timeoutMs: 20_000, connections: 1 });
      const started = Date.now();
      const answer = await http.send({ method: 'POST', path: '/x', headers: {}, body: '{}' });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(CAP);
      await expect.poll(() => seen.closed, { timeout: 5_000 }).toBe(true);
      // What the server could push into socket buffers before the drop, not the gigabyte.
      expect(seen.written).toBeLessThan(32 * 1024 * 1024);
    });
  }

  it('reads a small answer whole and keeps the connection for the next request', async () => {
    server = createServer((_req, res) => res.end('{"code":0,"msg":"ok"}'));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    http = new IspHttp({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5_000, connections: 1 });
    for (let i = 0; i < 3; i++) {
      const answer = await http.send({ method: 'POST', path: '/x', headers: {}, body: '{}' });
      expect(answer.body).toBe('{"code":0,"msg":"ok"}');
    }
  });
});
