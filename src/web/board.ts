/**
 * The queue dashboard: bull-board over every BullMQ queue of every running source, mounted at
 * BOARD_PATH, grouped by source and listed again whenever sources are added or removed. Owns what
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

/** A running source's queues, as the board lists them. */
export interface BoardSource {
  name: string;
  queues: Queue[];
}

export interface BoardOptions {
  /** The running sources now (called again after each change). */
  sources(): BoardSource[];
  /** Calls back after sources were added, removed or restarted; returns the unsubscribe. */
  onChange?(listener: () => void): () => void;
  readOnly: boolean;
  logger: Logger;
  /** The vendor's zone: every time on the board is shown in it, as on the status page. */
  timeZone: string;
}

/**
 * Queues whose jobs come from job schedulers that config owns (polls, full sync, lot health): shown read-only,
 * so the board offers no scheduler edit/remove (refused by the policy), no pause (a paused poll
 * queue is a stream that silently stops) and no clean. A failed poll carries no event (the next
 * poll reads the same rows), so there is nothing to retry there either; `full-sync` runs one now.
 */
export function isScheduledQueue(name: string): boolean {
  return name.startsWith('poll-') || name === 'full-sync' || name === 'lot-health';
}

/**
 * The source of a config without `sources` (src/config/schema.ts names it so): its queues keep their
 * plain names on the board, so a one-source deployment's links stay as they were.
 */
const SINGLE_SOURCE = 'default';
/** Between a source's name and its queue's on the board; bull-board groups the menu by it. */
export const BOARD_DELIMITER = '.';

/**
 * The name a queue has on the board (its routes and links): `<source>.<queue>`, since every source
 * has a `push-entrances`; the single source's queues keep their names. Neither a source's name nor
 * a queue's holds a `.`, so no two names can meet.
 */
export function boardQueueName(source: string, queue: string): string {
  return source === SINGLE_SOURCE ? queue : `${source}${BOARD_DELIMITER}${queue}`;
}

/** bull-board's date formats (Intl options) with the vendor's zone, named on every time. */
export function boardDateFormats(timeZone: string) {
  const time = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false } as const;
  return {
    short: { ...time, timeZone, timeZoneName: 'short' },
    common: { month: '2-digit', day: '2-digit', ...time, timeZone, timeZoneName: 'short' },
    full: { year: 'numeric', month: '2-digit', day: '2-digit', ...time, timeZone, timeZoneName: 'short' },
  } satisfies Record<string, Intl.DateTimeFormatOptions>;
}

/**
 * One bull-board adapter per queue of every source. Each queue keeps its own write rules (a poll
 * queue is read-only whichever source it belongs to); its board name carries the source
 * (`boardQueueName`), and its title says both.
 */
export function boardAdapters(sources: BoardSource[], readOnlyBoard: boolean): BullMQAdapter[] {
  return sources.flatMap((source) =>
    source.queues.map((queue) => {
      const scheduled = isScheduledQueue(queue.name);
      const readOnly = readOnlyBoard || scheduled;
      const grouped = boardQueueName(source.name, queue.name) !== queue.name;
      const adapter = new BullMQAdapter(queue, {
        readOnlyMode: readOnly,
        allowRetries: !readOnly,
        ...(grouped
          ? {
              prefix: `${source.name}${BOARD_DELIMITER}`,
              delimiter: BOARD_DELIMITER,
              displayName: `${source.name} · ${queue.name}`,
            }
          : {}),
        ...(scheduled
          ? {
              description:
                'scheduled from config: read-only here (run a full sync now with `isp-park-sync full-sync`)',
            }
          : {}),
      });
      adapter.setFormatter('data', redactDeep);
      adapter.setFormatter('returnValue', redactDeep);
      adapter.setFormatter('progress', redactDeep);
      adapter.setFormatter('name', (job: { name?: unknown }) => String(redactDeep(String(job.name ?? ''))));
      return adapter;
    }),
  );
}

/** A plugin to register with `{ prefix: BOARD_PATH }`. */
export function boardPlugin(options: BoardOptions): FastifyPluginAsync {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const board = createBullBoard({
    queues: boardAdapters(options.sources(), options.readOnly),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'isp-park-sync queues',
        hideDocsLink: true,
        dateFormats: boardDateFormats(options.timeZone),
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
    // A removed source's queues are closed with its Runtime: listed no more. A restarted source's
    // queues are new objects under the same names: listed afresh.
    const unsubscribe = options.onChange?.(() =>
      board.replaceQueues(boardAdapters(options.sources(), options.readOnly)),
    );
    scope.addHook('onClose', async () => unsubscribe?.());
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-security-policy', BOARD_CSP);
      const type = String(reply.getHeader('content-type') ?? '');
      if (typeof payload === 'string' && type.startsWith('text/html'))
        return withPolicy(withoutExternalLinks(payload));
      return payload;
    });
    scope.get('/isp-policy.js', async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').send(POLICY_SCRIPT),
    );
    await scope.register(serverAdapter.registerPlugin());
  };
}

/** bull-board's page links a web font from Google; the dashboard loads nothing from outside. */
export function withoutExternalLinks(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>/gi, '');
}

/** Where the page gets the script that marks which job status is shown (same origin). */
export const POLICY_SCRIPT_PATH = `${BOARD_PATH}/isp-policy.js`;

/**
 * bull-board offers every action of a job's status whatever the server will allow (its UI knows
 * only read-only or not). The policy refuses some (board-policy.ts); this takes their buttons off
 * the page so an operator is not offered what is then refused: duplicate and edit job data
 * everywhere, and clean/remove everywhere except on completed jobs (so never on a failed one).
 * Buttons are known by their icons; the shown status is put on <html> by POLICY_SCRIPT.
 */
export const POLICY_STYLE = `<style id="isp-policy">
ul[class*="jobActions-"] li:has(svg.lucide-files), ul[class*="jobActions-"] li:has(svg.lucide-pencil),
html:not([data-isp-status="completed"]) li:has(svg.lucide-trash-2) { display: none !important; }
</style>`;

/** Keeps `data-isp-status` on <html> equal to the status the board shows (`?status=`). */
export const POLICY_SCRIPT = `(() => {
  const mark = () => {
    const status = new URLSearchParams(location.search).get('status') || 'latest';
    if (document.documentElement.dataset.ispStatus !== status) document.documentElement.dataset.ispStatus = status;
  };
  mark();
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name];
    history[name] = function (...args) { const r = original.apply(this, args); mark(); return r; };
  }
  addEventListener('popstate', mark);
  setInterval(mark, 250);
})();
`;

/** The board page with the policy's style and script added. */
export function withPolicy(html: string): string {
  const tags = `${POLICY_STYLE}<script src="${POLICY_SCRIPT_PATH}"></script>`;
  return html.includes('</head>') ? html.replace('</head>', `${tags}</head>`) : `${tags}${html}`;
}

async function stateOf(
  queues: Map<string, { getJob(id: string): Promise<{ getState(): Promise<string> } | null | undefined> }>,
  params: Record<string, string | undefined>,
): Promise<string | undefined> {
  const queue = params.queueName ? queues.get(params.queueName) : undefined;
  const job = queue && params.jobId ? await queue.getJob(params.jobId) : undefined;
  return job ? await job.getState() : undefined;
}
