/**
 * The queue dashboard: bull-board over every BullMQ queue, mounted at BOARD_PATH. Owns what
 * bull-board shows and lets through: job data, results, names, logs, errors and options are
 * redacted on their way out (photos, secrets); write actions follow board-policy.ts and are all
 * off in read-only mode; the UI page is served without its one external resource (a web font) and
 * under a same-origin Content-Security-Policy. Authentication and the same-origin check of writes
 * happen before any request reaches it (server.ts).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../log.js';
import { boardWriteVerdict, needsJobState } from './board-policy.js';
import { redactDeep } from './redaction.js';

export const BOARD_PATH = '/admin/queues';

export const BOARD_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; " +
  "script-src 'self'; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

export interface BoardOptions {
  queues: Queue[];
  readOnly: boolean;
  logger: Logger;
}

/** A plugin to register with `{ prefix: BOARD_PATH }`. */
export function boardPlugin(options: BoardOptions): FastifyPluginAsync {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const adapters = options.queues.map((queue) => {
    const adapter = new BullMQAdapter(queue, {
      readOnlyMode: options.readOnly,
      allowRetries: !options.readOnly,
    });
    adapter.setFormatter('data', redactDeep);
    adapter.setFormatter('returnValue', redactDeep);
    adapter.setFormatter('progress', redactDeep);
    adapter.setFormatter('name', (job: { name?: unknown }) => String(redactDeep(String(job.name ?? ''))));
    return adapter;
  });
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'isp-park-sync queues',
        hideDocsLink: true,
        miscLinks: [{ text: 'Status page', url: '/' }],
      },
      handlerHooks: {
        before: async ({ method, route, request }) => {
          const params = (request.params ?? {}) as Record<string, string | undefined>;
          let jobState: string | undefined;
          if (needsJobState(method, route)) jobState = await stateOf(request.queues, params);
          const verdict = boardWriteVerdict(method, route, params, jobState);
          if (verdict.allow) return undefined;
          options.logger.warn({ method, route, queue: params.queueName, job: params.jobId }, verdict.message);
          return { allow: false, status: verdict.status, message: verdict.message };
        },
        // Errors (failedReason, stacktrace), logs, options and scheduler templates are not covered
        // by the formatters above: every API answer is redacted as a whole.
        after: (_context, result) => ({ ...result, body: redactDeep(result.body) as typeof result.body }),
      },
    },
  });

  return async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-security-policy', BOARD_CSP);
      const type = String(reply.getHeader('content-type') ?? '');
      if (typeof payload === 'string' && type.startsWith('text/html')) return withoutExternalLinks(payload);
      return payload;
    });
    await scope.register(serverAdapter.registerPlugin());
  };
}

/** bull-board's page links a web font from Google; the dashboard loads nothing from outside. */
export function withoutExternalLinks(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>/gi, '');
}

async function stateOf(
  queues: Map<string, { getJob(id: string): Promise<{ getState(): Promise<string> } | null | undefined> }>,
  params: Record<string, string | undefined>,
): Promise<string | undefined> {
  const queue = params.queueName ? queues.get(params.queueName) : undefined;
  const job = queue && params.jobId ? await queue.getJob(params.jobId) : undefined;
  return job ? await job.getState() : undefined;
}
