/**
 * The simulator's own API under /_sim/: what it received, its counters, what it holds per lot, and
 * the switches to change its behaviour at run time. Never subject to injected faults. Not part of
 * ISP's interface.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { describeIssues } from '../../isp-spec/index.js';
import { faultsPatchSchema } from './faults.js';
import { RECORD_KINDS } from './kinds.js';
import type { SimulatorState } from './state.js';
import { strictPatchSchema } from './strict.js';

/** Entries per GET /_sim/received page unless `limit` says otherwise. */
const DEFAULT_PAGE = 10_000;

const lotsQuery = z.strictObject({ code: z.string().min(1).optional() });

const receivedQuery = z.strictObject({
  kind: z.enum(RECORD_KINDS),
  offset: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().positive().default(DEFAULT_PAGE),
});

export function registerAdminRoutes(app: FastifyInstance, state: SimulatorState): void {
  const config = { target: 'admin' };

  app.get('/_sim/stats', { config }, () => state.stats());

  app.get('/_sim/received', { config }, (request, reply) => {
    const query = receivedQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, describeIssues(query.error));
    const { kind, offset, limit } = query.data;
    return { kind, total: state.store.count(kind), offset, records: state.received(kind, offset, limit) };
  });

  app.get('/_sim/faults', { config }, () => state.faults);

  // PUT: the start-time switches with the body applied; PATCH: the current ones with the body applied.
  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/_sim/faults',
      config,
      handler: (request, reply) => {
        const patch = faultsPatchSchema.safeParse(request.body ?? {});
        if (!patch.success) return badRequest(reply, describeIssues(patch.error));
        return method === 'PUT' ? state.setFaults(patch.data) : state.patchFaults(patch.data);
      },
    });
  }

  app.get('/_sim/strict', { config }, () => state.strict);

  // PUT: the start-time strictness with the body applied; PATCH: the current one with the body applied.
  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/_sim/strict',
      config,
      handler: (request, reply) => {
        const patch = strictPatchSchema.safeParse(request.body ?? {});
        if (!patch.success) return badRequest(reply, describeIssues(patch.error));
        return method === 'PUT' ? state.setStrict(patch.data) : state.patchStrict(patch.data);
      },
    });
  }

  // Every lot the simulator heard of, or one (`?code=ATXL%2F1`: codes hold "/"); 404 for a code it
  // never heard of, so a test can tell "unknown" from "deleted".
  app.get('/_sim/lots', { config }, (request, reply) => {
    const query = lotsQuery.safeParse(request.query);
    if (!query.success) return badRequest(reply, describeIssues(query.error));
    const { code } = query.data;
    if (code === undefined) return { lots: state.lots.list() };
    const lot = state.lot(code);
    return lot ?? reply.code(404).send({ error: `no lot ${JSON.stringify(code)} at the simulator` });
  });

  app.post('/_sim/reset', { config }, () => {
    state.reset();
    return { ok: true };
  });

  app.post('/_sim/tokens/expire', { config }, () => {
    state.expireTokens();
    return { ok: true };
  });

  app.get('/_sim/tokens', { config }, () => ({ issued: state.tokens.issued, requests: state.tokenRequests }));
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ error: message });
}
