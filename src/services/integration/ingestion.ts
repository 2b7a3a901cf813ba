import type { Trx } from '../../db/index.js';
import type { RecordError } from '../../errors.js';
import type { Direction, Product, UsageStatus } from '../billing/usage-rules.js';
import { blockedCustomerIds, insertUsageRecords, type NewUsageRecord } from '../billing/index.js';
import { isUniqueViolation } from '../assets/index.js';
import { msg } from '../platform/index.js';
import { checkRecord, type FieldProblem, LOCATION_RECORD, type RecordSpec, USAGE_RECORD } from './record-rules.js';

/**
 * Data from outside (device locations, usage records), validated and written the same way whether
 * it arrives through the ingestion API or a staff CSV import. Each kind is an IngestKind: a pure
 * check of one record, the look-up of what records name (asset identifiers, account ids) inside
 * the tenant, and the writer. A batch is all or nothing: any bad record, and nothing is written.
 *
 * Records naming an identifier the tenant does not have are errors like any other: row-level
 * security keeps another tenant's assets out of the look-up, so a key of tenant A cannot touch
 * tenant B's assets, and cannot tell whether an identifier exists there.
 */

export const MAX_BATCH = 10_000;

/** What records of a kind name, resolved once per batch inside the tenant. */
export type Lookups = {
  assets: Map<string, { id: string; customerId: string }>;
  customers: Map<string, string>;
  /** accounts over their debit limit whose records the tenant refuses ("block over limit" on) */
  blocked: Set<string>;
};

/** Kinds checked record by record: shape first, then the names the whole batch uses, looked up once. */
type RecordByRecord<Input, Resolved> = {
  /** shape and range of one record, without the database; the input comes from JSON or from a CSV row */
  check(record: unknown): { value: Input; problems: FieldProblem[] } | { value: null; problems: FieldProblem[] };
  /** the identifiers and account ids the record names */
  names(record: Input): { identifiers: string[]; accountIds: string[] };
  /** the record with its names resolved, or the problems of the names */
  resolve(
    record: Input,
    lookups: Lookups,
  ): { value: Resolved; problems: [] } | { value: null; problems: FieldProblem[] };
};

/** Kinds whose own module checks a whole batch at once (service visits: sites and services of the tenant). */
type WholeBatch<Resolved> = {
  validate(trx: Trx, tenantId: string, input: unknown[]): Promise<Validated<Resolved>>;
};

type Writer<Resolved> = {
  name: string;
  /** writes the batch (already valid and resolved); returns how many records were accepted */
  write(trx: Trx, tenantId: string, records: Resolved[]): Promise<number>;
};

/**
 * Kinds checked set-wise in the database (locations): each record's shape is checked on its own,
 * then one statement resolves what the whole batch names and writes it only when every name
 * resolved, so a good batch costs one round trip and no per-record look-up in JavaScript.
 */
export type SetWiseKind<Input> = {
  name: string;
  check: RecordByRecord<Input, never>['check'];
  /** the problems of what the records name (a null is a record whose shape failed), nothing written */
  unresolved(trx: Trx, tenantId: string, records: (Input | null)[]): Promise<RecordError[]>;
  /** writes the batch, or writes nothing and answers the problems of what it names */
  writeChecked(trx: Trx, tenantId: string, records: Input[]): Promise<{ accepted: number } | { errors: RecordError[] }>;
};

export type RecordKind<Input, Resolved> = Writer<Resolved> & RecordByRecord<Input, Resolved>;
export type IngestKind<Input, Resolved> =
  RecordKind<Input, Resolved> | (Writer<Resolved> & WholeBatch<Resolved>) | SetWiseKind<Input>;

const NO_FUTURE_MS = 24 * 60 * 60 * 1000;

/** A record's check as the kinds give it: the typed value, or null with the problems. */
function checked<T>(
  record: unknown,
  spec: RecordSpec,
  build: (values: Record<string, unknown>, problems: FieldProblem[]) => T,
): { value: T; problems: FieldProblem[] } | { value: null; problems: FieldProblem[] } {
  const { values, problems } = checkRecord(record, spec);
  const value = build(values, problems);
  return problems.length ? { value: null, problems } : { value, problems: [] };
}

function unknownAsset(): FieldProblem {
  return { field: 'identifier', message: msg('names no asset of yours') };
}

// ---- locations ----

export type LocationInput = { identifier: string; latitude: number; longitude: number; recordedAt: Date };

export const locationKind: SetWiseKind<LocationInput> = {
  name: 'locations',
  check: (record) =>
    checked(record, LOCATION_RECORD, (v) => ({
      identifier: v.identifier as string,
      latitude: v.latitude as number,
      longitude: v.longitude as number,
      recordedAt: v.recorded_at as Date,
    })),
  unresolved: unknownIdentifiers,
  writeChecked: writeLocations,
};

/** Each record naming one of `unknown` identifiers, as that record's problem. */
function identifierProblems(records: ({ identifier: string } | null)[], unknown: string[]): RecordError[] {
  if (!unknown.length) return [];
  const missing = new Set(unknown);
  const errors: RecordError[] = [];
  records.forEach((r, index) => {
    if (r && missing.has(r.identifier)) errors.push({ index, ...unknownAsset() });
  });
  return errors;
}

const distinctIdentifiers = (records: ({ identifier: string } | null)[]) => [
  ...new Set(records.flatMap((r) => (r ? [r.identifier] : []))),
];

/** The identifiers records name that no asset of the tenant has, looked up set-wise; nothing written. */
async function unknownIdentifiers(
  trx: Trx,
  tenantId: string,
  records: (LocationInput | null)[],
): Promise<RecordError[]> {
  const names = distinctIdentifiers(records);
  if (!names.length) return [];
  const { rows } = await trx.raw<{ rows: { identifier: string }[] }>(
    `select n.identifier from unnest(?::text[]) as n(identifier)
      where not exists (select 1 from assets a where a.tenant_id = ? and a.identifier = n.identifier)`,
    [names, tenantId],
  );
  return identifierProblems(
    records,
    rows.map((r) => r.identifier),
  );
}

/**
 * One statement for a batch whose records have their shape: the batch arrives as arrays (unnest),
 * the identifiers it names are resolved set-wise, and only when all of them name assets of the
 * tenant does it keep every position (a position sent again is ignored) and move the last location
 * of the assets whose newest position is newer than the one they have (late arrivals do not move a
 * device back in time), in one UPDATE of just those assets. Otherwise it writes nothing and answers
 * the identifiers it did not find. Each identifier's newest position is picked out before (one
 * pass in JavaScript), so the statement sorts nothing. `onConflict` is how the track meets a
 * position it has: writeLocations first tries a plain insert, cheaper than ON CONFLICT's
 * speculative one for every row, and only when a position is already there (a batch sent again,
 * or twice in one batch) runs the statement again with ON CONFLICT DO NOTHING.
 */
const WRITE_LOCATIONS = (onConflict: '' | 'on conflict do nothing') => `
  with named as materialized (
    select a.id, a.identifier, a.last_located_at from assets a
     where a.tenant_id = :tenant and a.identifier = any(:names::text[])
  ), unknown as materialized (
    select n.identifier from unnest(:names::text[]) as n(identifier)
     where not exists (select 1 from named where named.identifier = n.identifier)
  ), kept as (
    insert into asset_locations (tenant_id, asset_id, recorded_at, latitude, longitude)
    select :tenant, named.id, r.recorded_at, r.latitude, r.longitude
      from unnest(:identifiers::text[], :latitudes::float8[], :longitudes::float8[], :times::timestamptz[])
             as r(identifier, latitude, longitude, recorded_at)
      join named on named.identifier = r.identifier
     where not exists (select 1 from unknown)
    ${onConflict}
  ), newest as materialized (
    select named.id as asset_id, n.latitude, n.longitude, n.recorded_at
      from unnest(:names::text[], :newestLatitudes::float8[], :newestLongitudes::float8[], :newestTimes::timestamptz[])
             as n(identifier, latitude, longitude, recorded_at)
      join named on named.identifier = n.identifier
     where not exists (select 1 from unknown)
       and (named.last_located_at is null or named.last_located_at < n.recorded_at)
     order by named.id
  ), moved as (
    -- newest comes in key order, so a merge along the primary key is at hand: a new tenant's
    -- statistics (one row, says the planner) otherwise make it scan newest once per asset
    update assets a set last_latitude = n.latitude, last_longitude = n.longitude, last_located_at = n.recorded_at
      from newest n
     where a.tenant_id = :tenant and a.id = n.asset_id
       and (a.last_located_at is null or a.last_located_at < n.recorded_at)
  )
  select coalesce(array_agg(identifier), '{}') as unknown from unknown`;

export async function writeLocations(
  trx: Trx,
  tenantId: string,
  records: LocationInput[],
): Promise<{ accepted: number } | { errors: RecordError[] }> {
  if (!records.length) return { accepted: 0 };
  // each identifier's newest position (the first of equal times), in the order identifiers first appear
  const newest = new Map<string, LocationInput>();
  for (const r of records) {
    const seen = newest.get(r.identifier);
    if (!seen || seen.recordedAt < r.recordedAt) newest.set(r.identifier, r);
  }
  const latest = [...newest.values()];
  const bindings = {
    tenant: tenantId,
    names: [...newest.keys()],
    identifiers: records.map((r) => r.identifier),
    latitudes: records.map((r) => r.latitude),
    longitudes: records.map((r) => r.longitude),
    times: records.map((r) => r.recordedAt.toISOString()),
    newestLatitudes: latest.map((r) => r.latitude),
    newestLongitudes: latest.map((r) => r.longitude),
    newestTimes: latest.map((r) => r.recordedAt.toISOString()),
  };
  type Answer = { rows: { unknown: string[] }[] };
  const { rows } = await trx
    .transaction((plain) => plain.raw<Answer>(WRITE_LOCATIONS(''), bindings))
    .catch((err: unknown) => {
      if (!isUniqueViolation(err)) throw err;
      return trx.raw<Answer>(WRITE_LOCATIONS('on conflict do nothing'), bindings);
    });
  const errors = identifierProblems(records, rows[0]!.unknown);
  return errors.length ? { errors } : { accepted: records.length };
}

// ---- usage records ----

export type UsageInput = Omit<NewUsageRecord, 'customerId' | 'assetId'> & {
  identifier: string | null;
  accountId: string | null;
};

export const usageRecordKind: RecordKind<UsageInput, NewUsageRecord> = {
  name: 'usage-records',
  check: (record) =>
    checked(record, USAGE_RECORD, (v, problems) => {
      const occurredAt = v.occurred_at as Date;
      if (occurredAt && occurredAt.getTime() > Date.now() + NO_FUTURE_MS)
        problems.push({ field: 'occurred_at', message: msg('is more than a day in the future') });
      return {
        identifier: v.identifier as string | null,
        accountId: v.account_id as string | null,
        product: v.product as Product,
        occurredAt,
        direction: v.direction as Direction,
        status: v.status as UsageStatus,
        fromNumber: v.from_number as string,
        toNumber: v.to_number as string,
        durationSeconds: (v.duration_seconds as number | null) ?? USAGE_RECORD.fields.duration_seconds.default,
        units: (v.units as number | null) ?? USAGE_RECORD.fields.units.default,
        // none given: insertUsageRecords prices it from the customer's price list
        priceMinor: (v.price_minor as number | null) ?? undefined,
        contactName: v.contact_name as string | null,
        content: v.content as string | null,
      };
    }),
  names: (r) => ({ identifiers: r.identifier ? [r.identifier] : [], accountIds: r.accountId ? [r.accountId] : [] }),
  resolve(r, lookups) {
    const asset = r.identifier ? lookups.assets.get(r.identifier) : undefined;
    if (r.identifier && !asset) return { value: null, problems: [unknownAsset()] };
    const customerId = r.accountId ? lookups.customers.get(r.accountId) : asset!.customerId;
    if (!customerId)
      return { value: null, problems: [{ field: 'account_id', message: msg('names no customer of yours') }] };
    if (asset && asset.customerId !== customerId)
      return { value: null, problems: [{ field: 'account_id', message: msg('is not the customer of this asset') }] };
    if (lookups.blocked.has(customerId))
      return {
        value: null,
        problems: [
          {
            field: r.accountId ? 'account_id' : 'identifier',
            message: msg('names an account over its debit limit: its usage is refused until it is paid'),
          },
        ],
      };
    const { identifier: _i, accountId: _a, ...rest } = r;
    return { value: { ...rest, customerId, assetId: asset?.id ?? null }, problems: [] };
  },
  write: insertUsageRecords,
};

// ---- a batch ----

async function lookUp(trx: Trx, tenantId: string, identifiers: string[], accountIds: string[]): Promise<Lookups> {
  const assets = new Map<string, { id: string; customerId: string }>();
  const customers = new Map<string, string>();
  if (identifiers.length) {
    const rows: { identifier: string; id: string; customer_id: string }[] = await trx('assets')
      .where('tenant_id', tenantId)
      .whereRaw('identifier = any(?::text[])', [identifiers])
      .select('identifier', 'id', 'customer_id');
    for (const r of rows) assets.set(r.identifier, { id: r.id, customerId: r.customer_id });
  }
  if (accountIds.length) {
    const rows: { account_id: string; id: string }[] = await trx('customers')
      .where('tenant_id', tenantId)
      .whereRaw('account_id = any(?::text[])', [accountIds])
      .select('account_id', 'id');
    for (const r of rows) customers.set(r.account_id, r.id);
  }
  const named = [...new Set([...customers.values(), ...[...assets.values()].map((a) => a.customerId)])];
  return { assets, customers, blocked: await blockedCustomerIds(trx, tenantId, named) };
}

export type Validated<Resolved> = { records: Resolved[]; errors: RecordError[] };

/**
 * Checks every record and resolves what they name inside the tenant (in `trx`, bound to it);
 * `errors` lists each problem with the record's index (from 0). Nothing is written.
 */
export async function validateBatch<I, R>(
  trx: Trx,
  tenantId: string,
  kind: IngestKind<I, R>,
  input: unknown[],
): Promise<Validated<R>> {
  if ('validate' in kind) return kind.validate(trx, tenantId, input);
  if ('writeChecked' in kind) {
    const { values, errors } = checkEach(kind, input);
    errors.push(...(await kind.unresolved(trx, tenantId, values)));
    errors.sort((a, b) => a.index - b.index);
    // a set-wise kind's records are its checked inputs: resolving them is part of its write (ingestBatch)
    return { records: values.filter((v): v is I => v !== null) as unknown as R[], errors };
  }
  const { values: checkedRecords, errors } = checkEach(kind, input);
  const identifiers = new Set<string>();
  const accountIds = new Set<string>();
  for (const r of checkedRecords) {
    if (!r) continue;
    const n = kind.names(r);
    n.identifiers.forEach((i) => identifiers.add(i));
    n.accountIds.forEach((a) => accountIds.add(a));
  }
  const lookups = await lookUp(trx, tenantId, [...identifiers], [...accountIds]);
  const records: R[] = [];
  checkedRecords.forEach((r, index) => {
    if (!r) return;
    const { value, problems } = kind.resolve(r, lookups);
    for (const p of problems) errors.push({ index, ...p });
    if (value) records.push(value);
  });
  errors.sort((a, b) => a.index - b.index);
  return { records, errors };
}

/** Each record's shape: its value (null when it failed) and the problems, by index. */
function checkEach<I>(
  kind: { check: RecordByRecord<I, unknown>['check'] },
  input: unknown[],
): { values: (I | null)[]; errors: RecordError[] } {
  const errors: RecordError[] = [];
  const values = input.map((raw, index) => {
    const { value, problems } = kind.check(raw);
    for (const p of problems) errors.push({ index, ...p });
    return value;
  });
  return { values, errors };
}

/**
 * Validates and, only when every record is good, writes the batch. A set-wise kind whose records
 * all have their shape is checked and written by one statement; with a shape problem anywhere, what
 * the records name is still checked (nothing written), so every problem is answered at once.
 */
export async function ingestBatch<I, R>(
  trx: Trx,
  tenantId: string,
  kind: IngestKind<I, R>,
  input: unknown[],
): Promise<{ accepted: number } | { errors: RecordError[] }> {
  if ('writeChecked' in kind) {
    const { values, errors } = checkEach(kind, input);
    if (!errors.length) return kind.writeChecked(trx, tenantId, values as I[]);
    errors.push(...(await kind.unresolved(trx, tenantId, values)));
    return { errors: errors.sort((a, b) => a.index - b.index) };
  }
  const { records, errors } = await validateBatch(trx, tenantId, kind, input);
  if (errors.length) return { errors };
  return { accepted: await kind.write(trx, tenantId, records) };
}
