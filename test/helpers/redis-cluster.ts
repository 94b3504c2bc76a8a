/**
 * A Redis Cluster of the test's own: three masters with one replica each, six redis-server
 * processes in cluster mode on free ports (client and bus port each) in a temp dir, joined with
 * `redis-cli --cluster create`. Non-persistent (`--save "" --appendonly no`): a killed master
 * comes back only as its replica's promotion. `close()` kills every process and removes the dir.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, type ManagedProcess, spawnManaged } from './processes.js';

export interface ClusterNode {
  port: number;
  process: ManagedProcess;
}

export interface ClusterRole {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** The master's id, for a replica. */
  masterId?: string;
  /** Slot ranges, for a master. */
  slots: Array<[number, number]>;
  failed: boolean;
}

export interface PrivateRedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...` (every node as a seed). */
  url: string;
  nodes: ClusterNode[];
  /** CLUSTER NODES as seen from `viaPort` (default: any live node). */
  roles(viaPort?: number): Promise<ClusterRole[]>;
  /** The master serving the slot of `key` and its replicas, as the cluster sees them now. */
  ownerOf(key: string): Promise<{ slot: number; master: ClusterRole; replicas: ClusterRole[] }>;
  /** CONFIG SET on one node. */
  config(port: number, name: string, value: string): Promise<void>;
  /** SIGKILL the node on `port` (its process group). */
  kill(port: number): Promise<void>;
  /**
   * Waits until a node other than `oldMasterPort` serves `key`'s slot and every live node says
   * `cluster_state:ok`; returns the new master's port.
   */
  waitTakenOver(key: string, oldMasterPort: number, timeoutMs?: number): Promise<number>;
  /** Waits until every live node reports `cluster_state:ok`. */
  waitOk(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const MASTERS = 3;
const NODE_TIMEOUT_MS = 1_000;

export async function startRedisCluster(): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'ips-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.process.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < MASTERS * 2; i++) nodes.push(await startNode(dir));
    await redisCli([
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
  } catch (error) {
    const output = nodes.map((n) => n.process.output()).join('\n');
    await close();
    throw new Error(`Redis Cluster did not start: ${(error as Error).message}\n${output}`);
  }

  const live = () => nodes.filter((n) => n.process.running());
  const cluster: PrivateRedisCluster = {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    async roles(viaPort) {
      const port = viaPort ?? live()[0]!.port;
      return parseClusterNodes(String(await command(port, ['CLUSTER', 'NODES'])));
    },
    async ownerOf(key) {
      const port = live()[0]!.port;
      const slot = Number(await command(port, ['CLUSTER', 'KEYSLOT', key]));
      const roles = await cluster.roles(port);
      const master = roles.find(
        (r) => r.role === 'master' && !r.failed && r.slots.some(([a, b]) => slot >= a && slot <= b),
      );
      if (!master) throw new Error(`no master serves slot ${slot}`);
      return { slot, master, replicas: roles.filter((r) => r.masterId === master.id) };
    },
    async config(port, name, value) {
      await command(port, ['CONFIG', 'SET', name, value]);
    },
    async kill(port) {
      await nodes.find((n) => n.port === port)?.process.kill();
    },
    async waitTakenOver(key, oldMasterPort, timeoutMs = 30_000) {
      let port = oldMasterPort;
      await until(
        `another master for ${key} than ${oldMasterPort}`,
        async () => {
          port = (await cluster.ownerOf(key)).master.port;
          return port !== oldMasterPort;
        },
        timeoutMs,
      );
      await cluster.waitOk(timeoutMs);
      return port;
    },
    async waitOk(timeoutMs = 30_000) {
      await until(
        'cluster_state:ok on every live node',
        async () => {
          for (const node of live()) {
            const info = String(await command(node.port, ['CLUSTER', 'INFO']).catch(() => ''));
            if (!info.includes('cluster_state:ok')) return false;
          }
          return true;
        },
        timeoutMs,
      );
    },
    close,
  };
  try {
    await cluster.waitOk();
    // Each replica's link to its master is up, so a failover has a replica with the data.
    await until(
      'replicas in sync',
      async () => {
        const roles = await cluster.roles();
        const replicas = roles.filter((r) => r.role === 'replica');
        if (replicas.length !== MASTERS) return false;
        for (const r of replicas) {
          const info = String(await command(r.port, ['INFO', 'replication']));
          if (!info.includes('master_link_status:up')) return false;
        }
        // ...and every node's slot map lists them (a client learns the replicas from it).
        for (const node of live()) {
          const slots = (await command(node.port, ['CLUSTER', 'SLOTS'])) as unknown[][];
          if (slots.length === 0 || slots.some((range) => range.length < 4)) return false;
        }
        return true;
      },
      20_000,
    );
  } catch (error) {
    await close();
    throw error;
  }
  return cluster;
}

/** How often a node is started again on other ports when one it was given is taken meanwhile. */
const PORT_ATTEMPTS = 5;

/**
 * One cluster-mode redis-server on free ports, answering PING. A free port can be taken between
 * choosing it and the bind (other test files start servers at the same time): then the node is
 * started again on other ports.
 */
async function startNode(dir: string): Promise<ClusterNode> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const busPort = await freePort();
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    // Every setting on the command line: nothing of the machine's redis.conf applies.
    const args = [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      nodeDir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(NODE_TIMEOUT_MS),
      // A replica may always take over, however long it was out of touch (tests run on loaded machines).
      '--cluster-replica-validity-factor',
      '0',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--daemonize',
      'no',
    ];
    const node = { port, process: spawnManaged(`redis-cluster:${port}`, 'redis-server', args) };
    try {
      await until(
        `node ${port} PING`,
        async () => {
          if (!node.process.running()) throw new Error(`redis-server exited:\n${node.process.output()}`);
          return ping(port);
        },
        15_000,
        { stopOnError: true },
      );
      return node;
    } catch (error) {
      await node.process.kill();
      // Its last lines may arrive just after its exit.
      await new Promise((r) => setTimeout(r, 50));
      const taken = /Address already in use/.test(node.process.output());
      if (attempt >= PORT_ATTEMPTS || !taken) throw error;
    }
  }
}

/** CLUSTER NODES lines: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`. */
export function parseClusterNodes(text: string): ClusterRole[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , , ...slots] = line.trim().split(' ');
      const flagList = flags.split(',');
      const port = Number(address.split('@')[0]!.split(':').at(-1));
      return {
        id,
        port,
        role: flagList.includes('master') ? ('master' as const) : ('replica' as const),
        ...(master !== '-' ? { masterId: master } : {}),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-').map(Number);
            return [a!, b ?? a!] as [number, number];
          }),
        failed: flagList.includes('fail') || flagList.includes('fail?'),
      };
    });
}

async function command(port: number, args: string[]): Promise<unknown> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(args[0]!, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

async function ping(port: number): Promise<boolean> {
  return command(port, ['PING']).then(
    (answer) => answer === 'PONG',
    () => false,
  );
}

function redisCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`redis-cli ${args.join(' ')} exited ${code}: ${output}`)),
    );
  });
}

/** Waits for `check`; an error it throws counts as not yet, or ends the wait with `stopOnError`. */
async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  { stopOnError = false }: { stopOnError?: boolean } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await check().catch((error: unknown) => {
      if (stopOnError) throw error;
      return false;
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
