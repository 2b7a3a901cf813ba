import { createDb, type Db } from './index.js';

/**
 * A streaming replica for the heavy reads that may lag a little. It serves only while it answers,
 * still streams from the primary and is less than `maxLagSeconds` behind; otherwise those reads go
 * to the primary. What is known of it is at most a second old: asking starts a check in the
 * background when the last one is older than that, so there is no timer of its own.
 */
export type ReadReplica = {
  db: Db;
  /** true while the last check (at most a few seconds old) found the replica answering and close behind */
  usable(): boolean;
  /** checks now, and says what it found */
  check(): Promise<ReplicaState>;
  close(): Promise<void>;
};

export type ReplicaState = { usable: boolean; lagSeconds: number | null; checkedAt: number; problem: string | null };

const CHECK_EVERY_MS = 1000;
/** a check that has not come back within this long (a replica that hangs) counts as a failed one */
const TRUST_FOR_MS = 3000;

/**
 * The replay lag in seconds: none while everything received is replayed (an idle primary sends nothing,
 * so the age of the last replayed transaction would mislead), else the age of the last one replayed.
 * A standby without a WAL receiver is cut off from its primary and cannot say how far behind it is.
 */
const LAG_SQL = `
  select case when not pg_is_in_recovery() then 0
              when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
              else extract(epoch from now() - pg_last_xact_replay_timestamp()) end as lag,
         pg_is_in_recovery() and not exists (select 1 from pg_stat_wal_receiver) as detached`;

export function openReplica(
  url: string,
  opts: { maxLagSeconds: number; poolMax?: number; log?: (message: string) => void; preparedStatements?: boolean },
): ReadReplica {
  const db = createDb(url, {
    poolMax: opts.poolMax,
    log: opts.log,
    applicationName: 'portico-replica',
    preparedStatements: opts.preparedStatements,
  });
  let state: ReplicaState = { usable: false, lagSeconds: null, checkedAt: 0, problem: 'not checked yet' };
  let running: Promise<ReplicaState> | null = null;
  const settle = (next: ReplicaState) => {
    if (next.usable !== state.usable)
      opts.log?.(next.usable ? 'read replica in use' : `read replica not used: ${next.problem}`);
    state = next;
  };

  const check = (): Promise<ReplicaState> => {
    running ??= (async () => {
      try {
        const { rows } = await db.raw<{ rows: { lag: number | null; detached: boolean }[] }>(LAG_SQL);
        const { lag, detached } = rows[0]!;
        const problem = detached
          ? 'not streaming from the primary'
          : lag === null || lag >= opts.maxLagSeconds
            ? `behind by ${lag === null ? 'an unknown time' : `${Math.round(lag)} s`}`
            : null;
        settle({ usable: !problem, lagSeconds: lag, checkedAt: Date.now(), problem });
      } catch (err) {
        const problem = err instanceof Error ? err.message : String(err);
        settle({ usable: false, lagSeconds: null, checkedAt: Date.now(), problem });
      } finally {
        running = null;
      }
      return state;
    })();
    return running;
  };

  return {
    db,
    usable() {
      const age = Date.now() - state.checkedAt;
      if (age >= CHECK_EVERY_MS) void check();
      return state.usable && age < TRUST_FOR_MS;
    },
    check,
    close: () => db.destroy(),
  };
}
