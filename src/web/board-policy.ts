/**
 * Which of bull-board's write actions the dashboard allows. The rule: an operator may replay,
 * hurry, pause and tidy up delivered jobs, but nothing on the dashboard may drop an undelivered
 * event or hand ISP data that did not come from the vendor database. So: retry, promote, pause,
 * resume, run a scheduler now, and clean/remove only completed jobs; never clean or remove a
 * failed job (it is an undelivered event: discarding one is `replay --discard`, audited), add or
 * edit job data (the dashboard shows it redacted), empty, obliterate, or change what config owns
 * (schedules, concurrency, rate limits). Unknown write routes (a newer bull-board) are refused.
 * Pure: the caller looks up the job state when `needsJobState` says so.
 */

export type BoardVerdict = { allow: true } | { allow: false; status: 403; message: string };

type Rule = 'allow' | 'finished-status' | 'finished-job' | string;

/** Write routes as bull-board declares them (method + first route path) and what we do with each. */
const WRITE_RULES: Record<string, Rule> = {
  'put /api/queues/pause': 'allow',
  'put /api/queues/resume': 'allow',
  'put /api/queues/:queueName/pause': 'allow',
  'put /api/queues/:queueName/resume': 'allow',
  'put /api/queues/:queueName/retry/:queueStatus': 'allow',
  'put /api/queues/:queueName/promote': 'allow',
  'put /api/queues/:queueName/:jobId/retry': 'allow',
  'put /api/queues/:queueName/:jobId/promote': 'allow',
  'patch /api/queues/:queueName/:jobId/delay': 'allow',
  'patch /api/queues/:queueName/:jobId/priority': 'allow',
  'put /api/queues/:queueName/rate-limit/release': 'allow',
  'put /api/queues/:queueName/job-schedulers/:schedulerId/run': 'allow',
  'put /api/queues/:queueName/clean/:queueStatus': 'finished-status',
  'put /api/queues/:queueName/:jobId/clean': 'finished-job',
  'post /api/queues/:queueName/add':
    'adding jobs by hand is disabled: work enters only from the vendor database (use `replay` or `backfill`)',
  'patch /api/queues/:queueName/:jobId/update-data':
    'editing job data is disabled: the dashboard shows it redacted, saving it would corrupt the job',
  'put /api/queues/:queueName/empty': 'emptying a queue would drop undelivered events',
  'put /api/queues/:queueName/obliterate': 'obliterating a queue would drop undelivered events',
  'put /api/queues/:queueName/concurrency': 'concurrency is set in config (pipeline.pushConcurrency)',
  'put /api/queues/:queueName/rate-limit': 'rate limits are not changed from the dashboard',
  'put /api/queues/:queueName/job-schedulers/:schedulerId/remove':
    'schedules are set in config and restored at start; change them there',
  'patch /api/queues/:queueName/job-schedulers/:schedulerId':
    'schedules are set in config and restored at start; change them there',
  'put /api/queues/:queueName/:jobId/remove-unprocessed-children': 'not used by this application',
  'post /api/metrics/history/purge': 'not used by this application',
};

/** The only state whose jobs the dashboard may clean or remove: delivered. */
const REMOVABLE = new Set(['completed']);

const DISCARD_HINT =
  'failed jobs are undelivered events and are kept: retry them here, or discard one on purpose with ' +
  '`isp-park-sync replay --discard --job <id> --reason "…"` (audited)';

/** Whether the verdict for this route depends on the job's state (the caller then looks it up). */
export function needsJobState(method: string, route: string): boolean {
  return WRITE_RULES[ruleKey(method, route)] === 'finished-job';
}

export function boardWriteVerdict(
  method: string,
  route: string,
  params: Record<string, string | undefined>,
  jobState?: string,
): BoardVerdict {
  const m = method.toLowerCase();
  if (m === 'get' || m === 'head') return { allow: true };
  const rule = WRITE_RULES[ruleKey(method, route)];
  if (rule === undefined) return refuse(`${method.toUpperCase()} ${route} is not allowed from the dashboard`);
  if (rule === 'allow') return { allow: true };
  if (rule === 'finished-status') {
    const status = params.queueStatus ?? '';
    if (REMOVABLE.has(status)) return { allow: true };
    if (status === 'failed') return refuse(`cleaning failed jobs is refused: ${DISCARD_HINT}`);
    return refuse(`cleaning ${status} jobs would drop undelivered events; only completed jobs are cleaned`);
  }
  if (rule === 'finished-job') {
    if (jobState !== undefined && REMOVABLE.has(jobState)) return { allow: true };
    if (jobState === 'failed')
      return refuse(`job ${params.jobId ?? ''} is failed: removing it is refused: ${DISCARD_HINT}`);
    return refuse(
      `job ${params.jobId ?? ''} is ${jobState ?? 'unknown'}: removing it would drop undelivered events; only completed jobs are removed`,
    );
  }
  return refuse(rule);
}

function ruleKey(method: string, route: string): string {
  return `${method.toLowerCase()} ${route}`;
}

function refuse(message: string): BoardVerdict {
  return { allow: false, status: 403, message };
}
