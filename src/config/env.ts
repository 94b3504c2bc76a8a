/**
 * Environment variables and the config keys they set. Secrets may come only from here: a secret
 * key found in a config file is refused (committed files must not hold credentials). A secret
 * variable may instead name a file holding its value (`<NAME>_FILE`, as Docker and Kubernetes
 * secrets are mounted). `.env.example` lists the same variables; a test keeps the two in step.
 */

export interface EnvVar {
  name: string;
  /** Dotted config key the variable sets. */
  key: string;
  kind: 'string' | 'int' | 'bool';
  /**
   * A password, token or client secret: never in a config file, scrubbed by value from every
   * dashboard response. Not a user name or client id: those appear in ordinary text (scrubbing
   * `WEB_USER=admin` broke every link with "admin" in it) and give nothing away alone.
   */
  secret: boolean;
  /**
   * Not a secret, but a credential's other half: may also come from `<NAME>_FILE`, so a deployment
   * keeps the user with its password (docker-compose.yml, deploy/ read them from files).
   */
  fromFile?: boolean;
  /**
   * A URL that is a secret as a whole (a webhook address carrying its token in the path or the
   * query), not only for a password in it: refused in config files, scrubbed whole.
   */
  wholeUrlSecret?: boolean;
  doc: string;
}

export const ENV_VARS: EnvVar[] = [
  {
    name: 'ISP_BASE_URL',
    key: 'isp.baseUrl',
    kind: 'string',
    secret: false,
    doc: 'ISP (or simulator) base URL',
  },
  {
    name: 'ISP_ALLOW_INSECURE_HTTP',
    key: 'isp.allowInsecureHttp',
    kind: 'bool',
    secret: false,
    doc: 'accept a plain http:// ISP base URL on a non-loopback host',
  },
  {
    name: 'ISP_CA_FILE',
    key: 'isp.caFile',
    kind: 'string',
    secret: false,
    doc: 'extra CA certificates (PEM)',
  },
  {
    name: 'ISP_CLIENT_ID',
    key: 'isp.auth.clientId',
    kind: 'string',
    secret: false,
    fromFile: true,
    doc: 'ISP client id',
  },
  {
    name: 'ISP_CLIENT_SECRET',
    key: 'isp.auth.clientSecret',
    kind: 'string',
    secret: true,
    doc: 'ISP client secret',
  },
  {
    name: 'ISP_USERNAME',
    key: 'isp.auth.username',
    kind: 'string',
    secret: false,
    fromFile: true,
    doc: 'ISP user (password grant)',
  },
  {
    name: 'ISP_PASSWORD',
    key: 'isp.auth.password',
    kind: 'string',
    secret: true,
    doc: 'ISP password (password grant)',
  },
  {
    name: 'VENDOR_DB_URL',
    key: 'vendor.url',
    kind: 'string',
    secret: true,
    doc: 'mysql://user:pass@host:3306/db, a read-only user',
  },
  {
    name: 'VENDOR_TIME_ZONE',
    key: 'vendor.timeZone',
    kind: 'string',
    secret: false,
    doc: 'zone of the vendor DATETIMEs',
  },
  {
    name: 'PHOTO_ROOT',
    key: 'photo.fileRoot',
    kind: 'string',
    secret: false,
    doc: 'root folder of photo file paths',
  },
  {
    name: 'REDIS_URL',
    key: 'redis.url',
    kind: 'string',
    secret: true,
    doc: 'redis://[:pass@]host:6379[/db], or a cluster: redis+cluster://[:pass@]h1:7000,h2:7001,h3:7002',
  },
  {
    name: 'REDIS_PREFIX',
    key: 'redis.prefix',
    kind: 'string',
    secret: false,
    doc: 'queue/state key prefix, e.g. {isp}',
  },
  {
    name: 'STATE_DIR',
    key: 'redis.stateDir',
    kind: 'string',
    secret: false,
    doc: 'folder for the evidence of Redis state (keep it persistent)',
  },
  { name: 'WEB_HOST', key: 'web.host', kind: 'string', secret: false, doc: 'dashboard bind address' },
  { name: 'WEB_PORT', key: 'web.port', kind: 'int', secret: false, doc: 'dashboard port' },
  {
    name: 'WEB_USER',
    key: 'web.user',
    kind: 'string',
    secret: false,
    fromFile: true,
    doc: 'dashboard HTTP Basic user',
  },
  {
    name: 'WEB_PASSWORD',
    key: 'web.password',
    kind: 'string',
    secret: true,
    doc: 'dashboard HTTP Basic password',
  },
  { name: 'WEB_TOKEN', key: 'web.token', kind: 'string', secret: true, doc: 'dashboard bearer token' },
  {
    name: 'WEB_READ_ONLY',
    key: 'web.readOnly',
    kind: 'bool',
    secret: false,
    doc: 'dashboard without write actions',
  },
  { name: 'SIM_PORT', key: 'sim.port', kind: 'int', secret: false, doc: 'ISP simulator port' },
  {
    name: 'SIM_CLIENT_ID',
    key: 'sim.clientId',
    kind: 'string',
    secret: false,
    doc: 'client id the simulator accepts',
  },
  {
    name: 'SIM_CLIENT_SECRET',
    key: 'sim.clientSecret',
    kind: 'string',
    secret: true,
    doc: 'client secret the simulator accepts',
  },
  {
    name: 'ALERTS_WEBHOOK_URL',
    key: 'alerts.webhook.url',
    kind: 'string',
    secret: true,
    wholeUrlSecret: true,
    doc: 'where alert notifications are POSTed (holds the robot token)',
  },
  {
    name: 'ALERTS_WEBHOOK_SECRET',
    key: 'alerts.webhook.secret',
    kind: 'string',
    secret: true,
    doc: 'DingTalk robot signing secret',
  },
  {
    name: 'LOG_LEVEL',
    key: 'log.level',
    kind: 'string',
    secret: false,
    doc: 'fatal|error|warn|info|debug|trace',
  },
];

/** Keys that must never be set from a file. */
export const SECRET_KEYS = ENV_VARS.filter(
  (v) => v.secret && (!v.key.endsWith('.url') || v.wholeUrlSecret),
).map((v) => v.key);

/** Config files to layer over config/default.yaml, comma-separated. */
export const CONFIG_FILES_VAR = 'ISP_SYNC_CONFIG';

/** `<NAME>_FILE`: the variable's value is the content of that file (secrets and `fromFile` only). */
export const FILE_SUFFIX = '_FILE';

/**
 * What `start` cannot run without, by grant type. Each is a config key that must be set by the
 * deployment (environment, a `_FILE` secret, or a config file of ISP_SYNC_CONFIG), never taken from
 * config/default.yaml, whose loopback values serve the other commands and the tests on one machine.
 */
export function requiredForStart(grantType: string): string[] {
  const credentials =
    grantType === 'password'
      ? ['isp.auth.username', 'isp.auth.password']
      : ['isp.auth.clientId', 'isp.auth.clientSecret'];
  return ['isp.baseUrl', ...credentials, 'vendor.url'];
}
