/**
 * The ISP endpoints (spec §1, §3–§7) as a strict ISP would answer them: a token endpoint that
 * checks client credentials (of one client or several, each with its own secret), and data endpoints that require a valid bearer token, validate every
 * record, apply reject rules and the strictness switches (photos that must decode, lots that must
 * be registered), and store a batch, and apply it to the per-lot state, only when all of it is
 * acceptable. A refused batch is refused whole with code 1, so a client isolates the bad records
 * by splitting it. Every stored record remembers the client its token was issued to.
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

/** One client the simulator accepts. */
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
  /** Every client accepted, each id once (`clientsAccepted` builds and checks the list). */
  clients: readonly Credentials[],
  random: () => number,
): void {
  app.post(ENDPOINTS.token, { config: { target: 'token' } }, async (request, reply) => {
    if (state.faults.tokenEndpointFaults) await slowDown(state);
    return issueToken(request, reply, state, clients);
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
        const token = state.tokens.verify(request.headers.authorization, Date.now());
        if (token.check !== 'ok') {
          state.counters.unauthorized++;
          return reply
            .code(state.strict.unauthorizedInBody ? 200 : 401)
            .send({ code: 401, msg: TOKEN_PROBLEMS[token.check] });
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
        await state.store.add(kind, records, receivedAt, token.clientId);
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
  clients: readonly Credentials[],
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
      clientId,
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

  // The client named, if its secret is right (any secret when it has none configured).
  const named = clients.find((client) => client.clientId === clientId);
  const authenticated =
    named && (named.clientSecret === undefined || clientSecret === named.clientSecret) ? named : undefined;
  let holder: Credentials;
  if (grantType === undefined) return refuse(400, 'invalid_request', 'grant_type is required');
  if (grantType === 'client_credentials') {
    if (clientAuth === 'none') {
      return refuse(
        401,
        'invalid_client',
        'client authentication required: client_id and client_secret, or HTTP Basic',
      );
    }
    if (!authenticated) return refuse(401, 'invalid_client', 'bad client credentials');
    holder = authenticated;
  } else if (grantType === 'password') {
    if (clientAuth !== 'none' && !authenticated)
      return refuse(401, 'invalid_client', 'bad client credentials');
    if (fields.username === undefined)
      return refuse(400, 'invalid_request', 'username and password are required');
    // With client authentication the user must be that client's; without it, any client's user.
    const user = (authenticated ? [authenticated] : clients).find(
      (client) => (client.username ?? client.clientId) === fields.username,
    );
    const password = user && (user.password ?? user.clientSecret);
    if (!user || (password !== undefined && fields.password !== password)) {
      return refuse(400, 'invalid_grant', 'bad username or password');
    }
    holder = user;
  } else {
    return refuse(
      400,
      'unsupported_grant_type',
      `grant_type "${grantType}" is not supported (client_credentials, password)`,
    );
  }
  note('issued');
  return reply.send(state.tokens.issue(holder.clientId, state.faults.tokenTtlSeconds, Date.now()));
}

/**
 * The clients a simulator accepts: the default one first, then `extra`. A client id given twice
 * is refused, since a token could not say which of the two it belongs to.
 */
export function clientsAccepted(first: Credentials, extra: readonly Credentials[] = []): Credentials[] {
  const clients = [first, ...extra];
  const seen = new Set<string>();
  for (const client of clients) {
    if (!client.clientId) throw new Error('simulator: every client needs a non-empty clientId');
    if (seen.has(client.clientId)) {
      throw new Error(
        `simulator: client id "${client.clientId}" is given twice; give each client (the default one included) its own id`,
      );
    }
    seen.add(client.clientId);
  }
  return clients;
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
