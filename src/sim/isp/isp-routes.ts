/**
 * The ISP endpoints (spec §1, §3–§7) as a strict ISP would answer them: a token endpoint that
 * checks client credentials, and data endpoints that require a valid bearer token, validate every
 * record, apply reject rules and the strictness switches (photos that must decode, lots that must
 * be registered), and store a batch, and apply it to the per-lot state, only when all of it is
 * acceptable. A refused batch is refused whole with code 1, so a client isolates the bad records
 * by splitting it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENDPOINTS } from '../../isp-spec/index.js';
import { findRejected } from './faults.js';
import { KINDS, type LotDataKind, RECORD_KINDS, type RecordKind, type WireRecord } from './kinds.js';
import { photosProblem } from './photo-check.js';
import type { SimulatorState } from './state.js';
import { unknownLotsMessage } from './strict.js';
import type { TokenCheck } from './tokens.js';
import { validateBody } from './validate.js';

export interface Credentials {
  clientId: string;
  /** Undefined: any secret is accepted for `clientId`. */
  clientSecret?: string | undefined;
  /** Password grant: user (default clientId) and password (default clientSecret; undefined: any). */
  username?: string | undefined;
  password?: string | undefined;
}

const TOKEN_PROBLEMS: Record<Exclude<TokenCheck, 'ok'>, string> = {
  missing: 'not logged in: no Authorization header; fetch a token from /oauth/token',
  malformed: 'not logged in: Authorization must be "Bearer <access_token>"',
  unknown: 'token unknown: fetch a new token from /oauth/token',
  expired: 'token expired: fetch a new token from /oauth/token',
};

export function registerIspRoutes(
  app: FastifyInstance,
  state: SimulatorState,
  credentials: Credentials,
  random: () => number,
): void {
  app.post(ENDPOINTS.token, { config: { target: 'token' } }, async (request, reply) => {
    if (state.faults.tokenEndpointFaults) await slowDown(state);
    return issueToken(request, reply, state, credentials);
  });

  for (const kind of RECORD_KINDS) {
    const spec = KINDS[kind];
    app.route({
      method: spec.method,
      url: spec.path,
      config: { target: 'isp' },
      handler: async (request, reply) => {
        // Receipt time: the whole body is here. Injected latency comes after it, and the batch is
        // handled (and may be stored) even when the client has given up waiting, as on a real ISP.
        const receivedAt = Date.now();
        await slowDown(state);
        const check = state.tokens.check(request.headers.authorization, Date.now());
        if (check !== 'ok') {
          state.counters.unauthorized++;
          return reply
            .code(state.strict.unauthorizedInBody ? 200 : 401)
            .send({ code: 401, msg: TOKEN_PROBLEMS[check] });
        }
        const validation = validateBody(kind, request.body);
        if (!validation.ok) {
          state.counters.rejected++;
          return reply.send({ code: 1, msg: validation.message });
        }
        const hit = findRejected(state.faults.rejectRules, kind, validation.records);
        if (hit) {
          state.counters.rejected++;
          return reply.send({ code: 1, msg: ruleMessage(kind, hit.index, hit.rule, validation.records) });
        }
        const records = validation.records;
        if (state.strict.decodePhotos) {
          const problem = await photosProblem(kind, records);
          if (problem) {
            state.counters.rejected++;
            state.counters.rejectedPhoto++;
            return reply.send({ code: 1, msg: problem });
          }
        }
        // From the lot check to applying the batch nothing awaits: no other request can delete or
        // register a lot in between.
        if (state.strict.knownLots && kind !== 'park') {
          const unknown = state.lots.unregistered(records.map((record) => String(record.park_code)));
          if (unknown.length > 0) {
            if (kind !== 'park-deletion') state.lots.noteRefused(kind, unknown);
            state.counters.rejected++;
            state.counters.rejectedUnknownLot++;
            return reply.send({ code: 1, msg: unknownLotsMessage(unknown, kind !== 'park-deletion') });
          }
        }
        applyToLots(state, kind, records, receivedAt);
        await state.store.add(kind, records, receivedAt);
        state.counters.accepted++;
        if (state.faults.dropAfterAcceptRate > 0 && random() < state.faults.dropAfterAcceptRate) {
          state.counters.droppedAfterAccept++;
          return dropConnection(request, reply);
        }
        const { successCode, messageKey } = state.faults;
        return reply.send({ code: successCode, [messageKey]: 'success' });
      },
    });
  }
}

function applyToLots(state: SimulatorState, kind: RecordKind, records: WireRecord[], at: number): void {
  if (kind === 'park') state.lots.addParks(records, at);
  else if (kind === 'park-deletion')
    state.lots.deleteParks(
      records.map((record) => String(record.park_code)),
      at,
    );
  else state.lots.addData(kind satisfies LotDataKind, records, at);
}

async function slowDown(state: SimulatorState): Promise<void> {
  if (state.faults.latencyMs > 0) await sleep(state.faults.latencyMs);
}

function ruleMessage(
  kind: RecordKind,
  index: number,
  rule: { field?: string | undefined; equals?: unknown; message?: string | undefined },
  records: WireRecord[],
): string {
  if (rule.message) return rule.message;
  const where =
    kind === 'park-deletion' ? `park_code ${JSON.stringify(records[index]?.park_code)}` : `[${index}]`;
  const what = rule.field ? `.${rule.field} ${JSON.stringify(records[index]?.[rule.field])}` : '';
  return `${where}${what}: rejected by a simulator rule`;
}

/** Destroys the connection without an answer (the client sees a reset or a closed socket). */
export function dropConnection(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  request.raw.socket?.destroy();
  return reply;
}

function issueToken(
  request: FastifyRequest,
  reply: FastifyReply,
  state: SimulatorState,
  credentials: Credentials,
): FastifyReply {
  const fields = stringFields(request.body);
  const basic = parseBasic(request.headers.authorization);
  const clientAuth = basic ? 'basic' : fields.client_id !== undefined ? 'body' : 'none';
  const clientId = basic ? basic.id : fields.client_id;
  const clientSecret = basic ? basic.secret : fields.client_secret;
  const grantType = fields.grant_type;
  const note = (result: 'issued' | 'refused') =>
    state.noteTokenRequest({
      at: Date.now(),
      contentType: String(request.headers['content-type'] ?? ''),
      clientAuth,
      grantType,
      fields: Object.keys(fields).sort(),
      result,
    });
  const refuse = (status: 400 | 401, error: string, description: string) => {
    note('refused');
    return reply
      .code(status)
      .send({ error, error_description: description, code: status === 401 ? 401 : 1, msg: description });
  };

  const clientOk =
    clientId === credentials.clientId &&
    (credentials.clientSecret === undefined || clientSecret === credentials.clientSecret);
  if (grantType === undefined) return refuse(400, 'invalid_request', 'grant_type is required');
  if (grantType === 'client_credentials') {
    if (clientAuth === 'none') {
      return refuse(
        401,
        'invalid_client',
        'client authentication required: client_id and client_secret, or HTTP Basic',
      );
    }
    if (!clientOk) return refuse(401, 'invalid_client', 'bad client credentials');
  } else if (grantType === 'password') {
    if (clientAuth !== 'none' && !clientOk) return refuse(401, 'invalid_client', 'bad client credentials');
    const user = credentials.username ?? credentials.clientId;
    const password = credentials.password ?? credentials.clientSecret;
    if (fields.username === undefined)
      return refuse(400, 'invalid_request', 'username and password are required');
    if (fields.username !== user || (password !== undefined && fields.password !== password)) {
      return refuse(400, 'invalid_grant', 'bad username or password');
    }
  } else {
    return refuse(
      400,
      'unsupported_grant_type',
      `grant_type "${grantType}" is not supported (client_credentials, password)`,
    );
  }
  note('issued');
  return reply.send(
    state.tokens.issue(clientId ?? fields.username ?? '', state.faults.tokenTtlSeconds, Date.now()),
  );
}

function stringFields(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body || typeof body !== 'object' || Array.isArray(body)) return out;
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
  }
  return out;
}

function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header && /^basic\s+(\S+)$/i.exec(header.trim());
  if (!match) return undefined;
  const text = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon === -1
    ? { id: text, secret: '' }
    : { id: text.slice(0, colon), secret: text.slice(colon + 1) };
}
