import type { Trx } from '../../db/index.js';
import type { RecordError } from '../../errors.js';
import type { Direction, Product, UsageStatus } from '../billing/usage-rules.js';
import { insertUsageRecords, type NewUsageRecord } from '../billing/index.js';
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
export type Lookups = { assets: Map<string, { id: string; customerId: string }>; customers: Map<string, string> };

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

export type RecordKind<Input, Resolved> = Writer<Resolved> & RecordByRecord<Input, Resolved>;
export type IngestKind<Input, Resolved> = RecordKind<Input, Resolved> | (Writer<Resolved> & WholeBatch<Resolved>);

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
  return { field: 'identifier', message: 'names no asset of yours' };
}

// ---- locations ----

export type LocationInput = { identifier: string; latitude: number; longitude: number; recordedAt: Date };
export type ResolvedLocation = { assetId: string; latitude: number; longitude: number; recordedAt: Date };

export const locationKind: RecordKind<LocationInput, ResolvedLocation> = {
  name: 'locations',
  check: (record) =>
    checked(record, LOCATION_RECORD, (v) => ({
      identifier: v.identifier as string,
      latitude: v.latitude as number,
      longitude: v.longitude as number,
      recordedAt: v.recorded_at as Date,
    })),
  names: (r) => ({ identifiers: [r.identifier], accountIds: [] }),
  resolve(r, lookups) {
    const asset = lookups.assets.get(r.identifier);
    if (!asset) return { value: null, problems: [unknownAsset()] };
    return {
      value: { assetId: asset.id, latitude: r.latitude, longitude: r.longitude, recordedAt: r.recordedAt },
      problems: [],
    };
  },
  write: writeLocations,
};

/**
 * Keeps every position (a position sent again is ignored) and moves each asset's last location to
 * the newest of the batch, unless the asset already knows a newer one (late arrivals do not move
 * a device back in time). One statement whatever the batch size.
 */
export async function writeLocations(trx: Trx, tenantId: string, records: ResolvedLocation[]): Promise<number> {
  if (!records.length) return 0;
  const rows = JSON.stringify(
    records.map((r) => ({
      asset_id: r.assetId,
      latitude: r.latitude,
      longitude: r.longitude,
      recorded_at: r.recordedAt.toISOString(),
    })),
  );
  await trx.raw(
    `with r as materialized (
       select * from jsonb_to_recordset(?::jsonb)
                  as r(asset_id uuid, latitude float8, longitude float8, recorded_at timestamptz)
     ), kept as (
       insert into asset_locations (tenant_id, asset_id, recorded_at, latitude, longitude)
       select ?, asset_id, recorded_at, latitude, longitude from r
       on conflict do nothing
     ), newest as (
       select distinct on (asset_id) asset_id, latitude, longitude, recorded_at from r
        order by asset_id, recorded_at desc
     )
     update assets a set last_latitude = n.latitude, last_longitude = n.longitude, last_located_at = n.recorded_at
       from newest n
      where a.tenant_id = ? and a.id = n.asset_id and (a.last_located_at is null or a.last_located_at < n.recorded_at)`,
    [rows, tenantId, tenantId],
  );
  return records.length;
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
        problems.push({ field: 'occurred_at', message: 'is more than a day in the future' });
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
    if (!customerId) return { value: null, problems: [{ field: 'account_id', message: 'names no customer of yours' }] };
    if (asset && asset.customerId !== customerId)
      return { value: null, problems: [{ field: 'account_id', message: 'is not the customer of this asset' }] };
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
  return { assets, customers };
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
  const errors: RecordError[] = [];
  const checkedRecords: (I | null)[] = input.map((raw, index) => {
    const { value, problems } = kind.check(raw);
    for (const p of problems) errors.push({ index, ...p });
    return value;
  });
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

/** Validates and, only when every record is good, writes the batch. */
export async function ingestBatch<I, R>(
  trx: Trx,
  tenantId: string,
  kind: IngestKind<I, R>,
  input: unknown[],
): Promise<{ accepted: number } | { errors: RecordError[] }> {
  const { records, errors } = await validateBatch(trx, tenantId, kind, input);
  if (errors.length) return { errors };
  return { accepted: await kind.write(trx, tenantId, records) };
}
