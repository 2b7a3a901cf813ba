import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  JOBS: z.enum(['on', 'off']).default('on'),
  SEED: z.enum(['auto', 'off']).default('auto'),
  MAP_TILE_URL: z.string().optional(),
  MAP_TILE_ATTRIBUTION: z.string().max(300).optional(),
  API_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(120),
});

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
  dataDir: string;
  sessionSecret: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  baseUrl: string;
  logLevel: z.infer<typeof LogLevel>;
  env: 'development' | 'production' | 'test';
  /** Secure cookies, `__Host-` cookie name and upgrade-insecure-requests only make sense over https. */
  secureCookies: boolean;
  trustProxy: boolean;
  jobs: boolean;
  /** cron expressions from JOB_SCHEDULE_<NAME> (JOB_SCHEDULE_RENEWAL_REMINDERS for 'renewal-reminders') */
  jobSchedules: Record<string, string>;
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
  const dataDir = path.resolve(e.DATA_DIR);
  const baseUrl = (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseReplicaUrl: e.DATABASE_REPLICA_URL,
    databaseReplicaMaxLag: e.DATABASE_REPLICA_MAX_LAG,
    dataDir,
    sessionSecret: e.SESSION_SECRET ?? persistentSecret(dataDir, 'session-secret'),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    baseUrl,
    logLevel: e.LOG_LEVEL,
    env: e.NODE_ENV,
    secureCookies: baseUrl.startsWith('https://'),
    trustProxy: e.TRUST_PROXY,
    jobs: e.JOBS === 'on',
    jobSchedules: jobSchedules(withoutBlanks(env)),
    seed: e.SEED === 'auto',
    apiRateLimit: e.API_RATE_LIMIT,
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
