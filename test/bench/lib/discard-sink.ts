/**
 * A minimal ISP that does not look at what it is sent: it answers the token endpoint as ISP does
 * (src/sim/isp/tokens.ts' shape) and every data request with ISP's success answer
 * (`{"code":0,"msg":"success"}`) once the whole body has arrived, without parsing it. Entrances and
 * departures are counted by the `"park_code":` keys in the raw bytes (every event carries exactly
 * one; a photo's Base64 cannot contain a quote), so a benchmark can time a worker against it while
 * the receiving side costs next to nothing: the simulator parsing 8 MB photo bodies on the same
 * two cores measures the simulator, not the worker.
 *
 * `down()` closes the listener and every open connection (ISP unreachable: connection refused);
 * `up()` listens again on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ENDPOINTS } from '../../../src/isp-spec/index.js';

const KEY = Buffer.from('"park_code":');
const SUCCESS = Buffer.from('{"code":0,"msg":"success"}');
const TOKEN = Buffer.from(
  JSON.stringify({
    access_token: 'sink.token.discard',
    token_type: 'bearer',
    expires_in: '86400',
    scope: 'all',
    token: 'sink',
  }),
);
const EVENT_PATHS = new Set<string>([ENDPOINTS.entrances, ENDPOINTS.departures]);

export interface DiscardSink {
  url: string;
  /** Entrances and departures received so far (whole bodies only). */
  events(): number;
  /** Epoch ms the last event body ended. */
  lastReceipt(): number;
  /** Request bodies received on the event endpoints, and their bytes. */
  requests(): { bodies: number; bytes: number };
  /** TCP connections accepted so far. */
  connections(): number;
  reset(): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Occurrences of KEY in a stream of chunks (a key split across two chunks counts once). */
function keyCounter() {
  let carry = Buffer.alloc(0);
  let count = 0;
  return {
    add(chunk: Buffer) {
      const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      let at = data.indexOf(KEY);
      let end = 0;
      while (at !== -1) {
        count++;
        end = at + KEY.length;
        at = data.indexOf(KEY, end);
      }
      // Keep a tail that could hold the start of a key (not one already counted).
      const keep = Math.min(KEY.length - 1, data.length - end);
      carry = Buffer.from(data.subarray(data.length - keep));
    },
    get count() {
      return count;
    },
  };
}

export async function startDiscardSink(port = 0): Promise<DiscardSink> {
  let events = 0;
  let last = 0;
  let bodies = 0;
  let bytes = 0;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const counter = EVENT_PATHS.has(path) && req.method === 'POST' ? keyCounter() : undefined;
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      counter?.add(chunk);
    });
    req.on('end', () => {
      if (counter) {
        events += counter.count;
        bodies++;
        bytes += size;
        last = Date.now();
      }
      const body = path === ENDPOINTS.token ? TOKEN : SUCCESS;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  };
  let server: Server = createServer({ keepAliveTimeout: 30_000 }, handle);
  const listen = (s: Server, p: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        s.off('error', reject);
        const address = s.address();
        resolve(typeof address === 'object' && address ? address.port : p);
      });
    });
  const track = (s: Server) =>
    s.on('connection', (socket: Socket) => {
      accepted++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  track(server);
  const bound = await listen(server, port);
  let listening = true;
  const down = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    url: `http://127.0.0.1:${bound}`,
    events: () => events,
    lastReceipt: () => last,
    requests: () => ({ bodies, bytes }),
    connections: () => accepted,
    reset() {
      events = 0;
      last = 0;
      bodies = 0;
      bytes = 0;
      accepted = 0;
    },
    down,
    async up() {
      if (listening) return;
      server = createServer({ keepAliveTimeout: 30_000 }, handle);
      track(server);
      await listen(server, bound);
      listening = true;
    },
    close: down,
  };
}
