import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP, isIPv4 } from 'node:net';
import path from 'node:path';
import { validate as isCronExpression } from 'node-cron';
import { z } from 'zod';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_REPLICA_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  DATABASE_REPLICA_MAX_LAG: z.coerce.number().int().min(1).max(3600).default(5),
  DATABASE_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),
  DATA_DIR: z.string().min(1).default('./.data'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  MAIL_FROM: z.string().min(3).default('Portico <no-reply@portico.localhost>'),
  BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).optional(),
  LOG_LEVEL: LogLevel.default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  TRUST_PROXY: z.string().default('false'),
  JOBS: z.enum(['on', 'off']).default('on'),
  /** auto: the demo on an empty database, outside production; demo: the same, asked for; off: never */
  SEED: z.enum(['auto', 'demo', 'off']).default('auto'),
  MAP_TILE_URL: z.string().optional(),
  MAP_TILE_ATTRIBUTION: z.string().max(300).optional(),
  API_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(120),
  MAIL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  EXPORT_SEND_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
});

export type TrustProxy = false | number | string[];

export type Config = {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  /** a streaming replica for the heavy reads that may lag a little (lists, exports, summaries); none when unset */
  databaseReplicaUrl: string | undefined;
  /**
   * seconds: the replica serves only while it is less than this behind, and a person's reads go to the
   * primary for this long after their own last write, so they always see what they just did
   */
  databaseReplicaMaxLag: number;
  /**
   * the hot pages' statements (asset list, partner usage log, call summaries, the session read) as named
   * statements, planned once per connection; needs a direct connection or PgBouncer 1.21+ with
   * max_prepared_statements (src/db/prepared.ts)
   */
  databasePreparedStatements: boolean;
  dataDir: string;
  sessionSecret: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  baseUrl: string;
  logLevel: z.infer<typeof LogLevel>;
  env: 'development' | 'production' | 'test';
  /** Secure cookies, `__Host-` cookie name and upgrade-insecure-requests only make sense over https. */
  secureCookies: boolean;
  /** Express's `trust proxy`: false, how many proxies stand in front, or the proxies' addresses and subnets */
  trustProxy: TrustProxy;
  jobs: boolean;
  /** cron expressions from JOB_SCHEDULE_<NAME> (JOB_SCHEDULE_RENEWAL_REMINDERS for 'renewal-reminders') */
  jobSchedules: Record<string, string>;
  /** whether to seed the demo data on an empty database: never in production */
  seed: boolean;
  /** Leaflet's tile URL template for the devices map, or null for no background tiles (markers still show) */
  mapTileUrl: string | null;
  /**
   * the tile server's origin, which the Content-Security-Policy admits as an image source;
   * null when tiles come from the app itself
   */
  mapTileOrigin: string | null;
  /** plain text shown in the map's corner, as the tile provider asks */
  mapTileAttribution: string;
  /** requests per minute that one API key may make */
  apiRateLimit: number;
  /** days the outbox keeps mail before the prune-outbox job forgets it */
  mailRetentionDays: number;
  /** a streamed export whose reader takes nothing for this long is ended (and its connection with it) */
  exportSendTimeoutMs: number;
};

/**
 * OpenStreetMap's standard tiles: fine for a demo; a busy deployment should use its own tile server
 * (OSM's tile usage policy).
 */
export const DEFAULT_MAP_TILE_URL = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
const DEFAULT_MAP_ATTRIBUTION = '© OpenStreetMap contributors';

/**
 * A tile URL template: http(s) or a path on this app, with {z}, {x} and {y};
 * `{s}` may only be the first label of the host.
 */
export function mapTileProblem(url: string): string | null {
  if (url === 'none') return null;
  if (!/^(https?:\/\/[^/]+)?\//.test(url)) return 'must be an http(s) URL or a path starting with /, or "none"';
  if (!['{z}', '{x}', '{y}'].every((p) => url.includes(p))) return 'must contain {z}, {x} and {y}';
  const host = /^https?:\/\/([^/]+)/.exec(url)?.[1] ?? '';
  if (/[{}]/.test(host.replace(/^\{s\}\./, ''))) return 'may use {s} only as the first part of the host name';
  return null;
}

/** The origin to admit in img-src: `https://*.tile.example.com` for a `{s}.` host, null for a path on this app. */
export function mapTileOriginOf(url: string | null): string | null {
  const m = url ? /^(https?:\/\/)([^/]+)/.exec(url) : null;
  return m ? m[1]! + m[2]!.replace(/^\{s\}\./, '*.') : null;
}

export class ConfigError extends Error {}

/** Why production never gets the demo data, in one line. */
export const DEMO_REFUSED =
  'SEED=demo is refused with NODE_ENV=production: the demo logins share a published password.' +
  ' Create the first tenant with `npx portico tenant create` instead.';

/** Empty strings count as unset, so `PORT= npm start` behaves like no PORT at all. */
function withoutBlanks(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => !!e[1]?.trim()));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(withoutBlanks(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`);
  }
  const e = parsed.data;
  if (e.SEED === 'demo' && e.NODE_ENV === 'production') throw new ConfigError(DEMO_REFUSED);
  if (e.NODE_ENV === 'production' && !e.SESSION_SECRET)
    throw new ConfigError(
      'SESSION_SECRET is required with NODE_ENV=production: set it to 32 or more random characters ' +
        '(e.g. `openssl rand -base64 48`), the same on every instance',
    );
  const dataDir = path.resolve(e.DATA_DIR);
  const baseUrl = (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseReplicaUrl: e.DATABASE_REPLICA_URL,
    databaseReplicaMaxLag: e.DATABASE_REPLICA_MAX_LAG,
    databasePreparedStatements: e.DATABASE_PREPARED_STATEMENTS === 'on',
    dataDir,
    sessionSecret: e.SESSION_SECRET ?? persistentSecret(dataDir, 'session-secret'),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    baseUrl,
    logLevel: e.LOG_LEVEL,
    env: e.NODE_ENV,
    secureCookies: baseUrl.startsWith('https://'),
    trustProxy: trustProxy(e.TRUST_PROXY),
    jobs: e.JOBS === 'on',
    jobSchedules: jobSchedules(withoutBlanks(env)),
    seed: e.SEED !== 'off' && e.NODE_ENV !== 'production',
    apiRateLimit: e.API_RATE_LIMIT,
    mailRetentionDays: e.MAIL_RETENTION_DAYS,
    exportSendTimeoutMs: e.EXPORT_SEND_TIMEOUT_SECONDS * 1000,
    // unlike the other settings, MAP_TILE_URL set to nothing means something: no tiles
    ...mapTiles(
      env.MAP_TILE_URL !== undefined && !env.MAP_TILE_URL.trim()
        ? 'none'
        : (e.MAP_TILE_URL?.trim() ?? DEFAULT_MAP_TILE_URL),
      e.MAP_TILE_ATTRIBUTION,
    ),
  };
}

function mapTiles(
  url: string,
  attribution: string | undefined,
): Pick<Config, 'mapTileUrl' | 'mapTileOrigin' | 'mapTileAttribution'> {
  const problem = mapTileProblem(url);
  if (problem) throw new ConfigError(`Invalid MAP_TILE_URL=${JSON.stringify(url)}: ${problem}`);
  const mapTileUrl = url === 'none' ? null : url;
  const fallback = mapTileUrl === DEFAULT_MAP_TILE_URL ? DEFAULT_MAP_ATTRIBUTION : '';
  return { mapTileUrl, mapTileOrigin: mapTileOriginOf(mapTileUrl), mapTileAttribution: attribution ?? fallback };
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** One entry of a TRUST_PROXY list: a name Express knows, an address, or a subnet (prefix length or IPv4 mask). */
function isProxyAddress(entry: string): boolean {
  if (PROXY_NAMES.includes(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIPv4(range);
}

/**
 * Which proxies' X-Forwarded-For to believe. `true` would believe any client's own header, so its
 * per-address limits (sign-in failures, reset requests, token guessing) could never trigger.
 */
function trustProxy(value: string): TrustProxy {
  const v = value.trim().toLowerCase();
  const refuse = (why: string) => new ConfigError(`Invalid TRUST_PROXY=${JSON.stringify(value)}: ${why}`);
  if (v === 'false') return false;
  if (v === 'true')
    throw refuse(
      'trusting every proxy lets any client pick its own address with X-Forwarded-For and escape the ' +
        'per-address limits; give the number of proxies in front of Portico (1) ' +
        'or their addresses (loopback, 10.0.0.0/8)',
    );
  if (/^\d+$/.test(v)) return Number(v);
  const entries = v.split(',').map((entry) => entry.trim());
  const wrong = entries.find((entry) => !isProxyAddress(entry));
  if (wrong !== undefined)
    throw refuse(
      `${JSON.stringify(wrong)} is not a proxy address: use false, a hop count (1), or addresses and subnets ` +
        `(loopback, 10.0.0.0/8), comma-separated`,
    );
  return entries;
}

/** JOB_SCHEDULE_<NAME>=<cron> moves a job's schedule (UTC; a sixth, leading field counts seconds). */
function jobSchedules(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const m = /^JOB_SCHEDULE_([A-Z0-9_]+)$/.exec(key);
    if (!m) continue;
    if (!isCronExpression(value.trim()))
      throw new ConfigError(`Invalid ${key}=${JSON.stringify(value)}: must be a cron expression, like "0 6 * * *"`);
    out[m[1]!.toLowerCase().replaceAll('_', '-')] = value.trim();
  }
  return out;
}

/** A secret generated once and kept in DATA_DIR, so sessions survive a restart without configuration. */
function persistentSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  }
}
