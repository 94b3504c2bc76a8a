/**
 * `sim`: runs the ISP simulator on config.sim.port (env SIM_PORT) until SIGINT/SIGTERM, with flags
 * for faults, strictness and the storage mode, and prints its URL. Faults and strictness can be
 * changed later over PUT/PATCH <url>/_sim/faults and <url>/_sim/strict.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.js';
import { describeIssues } from '../isp-spec/index.js';
import { createLogger } from '../log.js';
// The simulator's server (fastify) is loaded by the action only: every other command, the worker
// included, would otherwise carry it (src/cli.ts builds every command at start).
import { type FaultsPatch, faultsPatchSchema, parseRejectRule, type RejectRule } from '../sim/isp/faults.js';
import type { SimulatorOptions } from '../sim/isp/index.js';
import { type Strictness, type StrictPatch, strictPatchSchema } from '../sim/isp/strict.js';

interface SimFlags {
  host?: string;
  port?: number;
  storage?: string;
  jsonl?: string;
  tokenTtl?: number;
  successCode?: number;
  messageKey?: string;
  failRate?: number;
  rateLimitRate?: number;
  retryAfter?: number;
  dropRate?: number;
  dropAfterAcceptRate?: number;
  latencyMs?: number;
  downForMs?: number;
  reject: RejectRule[];
  tokenFaults?: boolean;
  tokenFailRate?: number;
  tlsKey?: string;
  tlsCert?: string;
  knownLots?: boolean;
  decodePhotos?: boolean;
  bodyLimit?: number;
  unauthorizedInBody?: boolean;
}

export function simCommand(): Command {
  return new Command('sim')
    .description('run the ISP simulator: strict ISP endpoints, fault injection, admin API under /_sim/')
    .option('--host <host>', 'bind address (config sim.host)')
    .option('-p, --port <port>', 'port, 0 = any free one (config sim.port, env SIM_PORT)', wholeNumber)
    .option('--storage <mode>', 'full: keep records; light: keep natural keys and receipt times only')
    .option('--jsonl <file>', 'also append every accepted record to this JSONL file (config sim.jsonlFile)')
    .option('--token-ttl <seconds>', 'token lifetime (config sim.tokenTtlSeconds)', wholeNumber)
    .option('--success-code <code>', 'success answer code: 0 or 200', wholeNumber)
    .option('--message-key <key>', 'success answer text key: msg or message')
    .option('--fail-rate <p>', 'probability of HTTP 500 per request', probability)
    .option('--rate-limit-rate <p>', 'probability of HTTP 429 per request', probability)
    .option('--retry-after <seconds>', 'Retry-After of the 429 answers', wholeNumber)
    .option('--drop-rate <p>', 'probability of closing the connection without an answer', probability)
    .option(
      '--drop-after-accept-rate <p>',
      'probability of closing the connection after storing the batch',
      probability,
    )
    .option('--latency-ms <ms>', 'extra delay before each request is handled', wholeNumber)
    .option(
      '--down-for-ms <ms>',
      'reset every connection to ISP endpoints for this long from start',
      wholeNumber,
    )
    .option(
      '--reject <rule>',
      'answer code 1 for matching records, kind[:field[=value]], e.g. entrance:plate_number=京A00001 (repeatable)',
      (value: string, rules: RejectRule[]) => [...rules, asRejectRule(value)],
      [] as RejectRule[],
    )
    .option('--token-faults', 'apply latency, drops, 429 and 500 to /oauth/token too')
    .option('--token-fail-rate <p>', 'probability of HTTP 500 from /oauth/token alone', probability)
    .option(
      '--known-lots',
      'strict: refuse (code 1) counts, entrances, departures and DELETEs of lots not registered by POST /park/spot',
    )
    .option(
      '--decode-photos',
      'strict: decode every photo as a JPEG; refuse (code 1) a batch with one that does not',
    )
    .option(
      '--body-limit <bytes>',
      'strict: answer HTTP 413 to a data request body over this size',
      wholeNumber,
    )
    .option('--unauthorized-in-body', 'answer token problems with HTTP 200 and code 401 instead of HTTP 401')
    .option('--tls-key <file>', 'serve https with this PEM key (with --tls-cert)')
    .option('--tls-cert <file>', 'serve https with this PEM certificate (with --tls-key)')
    .action(async (flags: SimFlags) => {
      const config = loadConfig();
      const logger = createLogger(config.log.level, 'isp-sim');
      const { simulatorOptionsFromConfig, startSimulator } = await import('../sim/isp/index.js');
      const options: SimulatorOptions = {
        ...simulatorOptionsFromConfig(config.sim),
        ...(flags.host !== undefined ? { host: flags.host } : {}),
        ...(flags.port !== undefined ? { port: flags.port } : {}),
        ...(flags.jsonl !== undefined ? { jsonlFile: flags.jsonl } : {}),
        logger,
      };
      if (flags.storage !== undefined) {
        if (flags.storage !== 'full' && flags.storage !== 'light') {
          throw new InvalidArgumentError(`--storage must be full or light, got "${flags.storage}"`);
        }
        options.storage = flags.storage;
      }
      options.faults = { ...options.faults, ...faultsFromFlags(flags) };
      options.strict = strictFromFlags(flags);
      if (flags.tlsKey || flags.tlsCert) {
        if (!flags.tlsKey || !flags.tlsCert)
          throw new InvalidArgumentError('--tls-key and --tls-cert go together');
        options.tls = { key: readFileSync(flags.tlsKey), cert: readFileSync(flags.tlsCert) };
      }
      const sim = await startSimulator(options);
      const secret = config.sim.clientSecret ? 'the configured secret' : 'any secret';
      console.log(`ISP simulator listening on ${sim.url}`);
      console.log(
        `  client id "${config.sim.clientId}" with ${secret}; storage ${sim.state.store.mode}; admin API ${sim.url}/_sim/stats`,
      );
      const strict = describeStrictness(sim.state.strict);
      if (strict) console.log(`  strict: ${strict}; change over ${sim.url}/_sim/strict`);
      const stop = async () => {
        await sim.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function faultsFromFlags(flags: SimFlags): FaultsPatch {
  const raw = {
    tokenTtlSeconds: flags.tokenTtl,
    successCode: flags.successCode,
    messageKey: flags.messageKey,
    http500Rate: flags.failRate,
    http429Rate: flags.rateLimitRate,
    retryAfterSeconds: flags.retryAfter,
    dropRate: flags.dropRate,
    dropAfterAcceptRate: flags.dropAfterAcceptRate,
    latencyMs: flags.latencyMs,
    downForMs: flags.downForMs,
    rejectRules: flags.reject.length ? flags.reject : undefined,
    tokenEndpointFaults: flags.tokenFaults,
    tokenHttp500Rate: flags.tokenFailRate,
  };
  const defined = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const parsed = faultsPatchSchema.safeParse(defined);
  if (!parsed.success) throw new InvalidArgumentError(`sim flags: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function describeStrictness(strict: Strictness): string {
  return [
    strict.knownLots ? 'data only for registered lots' : '',
    strict.decodePhotos ? 'photos decoded as JPEG' : '',
    strict.maxBodyBytes > 0 ? `bodies up to ${strict.maxBodyBytes} bytes` : '',
    strict.unauthorizedInBody ? '401 in the body' : '',
  ]
    .filter(Boolean)
    .join(', ');
}

function strictFromFlags(flags: SimFlags): StrictPatch {
  const raw = {
    knownLots: flags.knownLots,
    decodePhotos: flags.decodePhotos,
    maxBodyBytes: flags.bodyLimit,
    unauthorizedInBody: flags.unauthorizedInBody,
  };
  const defined = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const parsed = strictPatchSchema.safeParse(defined);
  if (!parsed.success) throw new InvalidArgumentError(`sim flags: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return Number(value);
}

function probability(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`expected a probability from 0 to 1, got "${value}"`);
  }
  return n;
}

function asRejectRule(value: string): RejectRule {
  try {
    return parseRejectRule(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
