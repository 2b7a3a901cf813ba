import { parse } from 'csv-parse/sync';
import { ValidationError } from '../../errors.js';
import { msg } from '../platform/index.js';
import { locationKind, usageRecordKind, type IngestKind } from './ingestion.js';
import { serviceVisitKind } from '../sites/index.js';
import { deviceImportKind } from '../assets/index.js';

/**
 * The kinds of CSV import and reading a file: a CsvImportKind is its columns and how a row's text
 * becomes the record the API would have received; parseCsvRecords turns a file into those records.
 */

export type CsvColumn = { name: string; required: boolean; description: string };

export type CsvImportKind = {
  key: string;
  label: string;
  columns: CsvColumn[];
  /** the row's text as the record the ingestion API takes (numbers as numbers, empty cells left out) */
  fromRow(row: Record<string, string>): Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind has its own record types
  ingest: IngestKind<any, any>;
};

/** A cell that holds a number becomes one; anything else stays text, so the check names it. */
const numberCell = (v: string | undefined): unknown =>
  v === undefined || v.trim() === '' ? undefined : /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v.trim()) : v;
const textCell = (v: string | undefined): unknown => (v === undefined || v.trim() === '' ? undefined : v);
/** yes/no in the words a spreadsheet uses; anything else stays text, so the check names it */
const booleanCell = (v: string | undefined): unknown => {
  const t = v?.trim().toLowerCase();
  if (!t) return undefined;
  if (['true', 'yes', 'y', '1'].includes(t)) return true;
  if (['false', 'no', 'n', '0'].includes(t)) return false;
  return v;
};

export const IMPORT_KINDS: CsvImportKind[] = [
  {
    key: 'locations',
    label: msg('Device locations'),
    columns: [
      { name: 'identifier', required: true, description: msg('the device identifier (IMEI or serial)') },
      { name: 'latitude', required: true, description: msg('decimal degrees, -90 to 90') },
      { name: 'longitude', required: true, description: msg('decimal degrees, -180 to 180') },
      { name: 'recorded_at', required: true, description: msg('ISO 8601 with a zone, e.g. 2026-12-01T08:30:00Z') },
    ],
    fromRow: (r) => ({
      identifier: textCell(r.identifier),
      latitude: numberCell(r.latitude),
      longitude: numberCell(r.longitude),
      recorded_at: textCell(r.recorded_at),
    }),
    ingest: locationKind,
  },
  {
    key: 'usage-records',
    label: msg('Usage records (calls, SMS, video, messaging)'),
    columns: [
      { name: 'identifier', required: false, description: msg('the asset; or give account_id') },
      { name: 'account_id', required: false, description: msg('the customer; or give identifier') },
      { name: 'product', required: true, description: msg('sms, voice, video or messaging') },
      { name: 'occurred_at', required: true, description: msg('ISO 8601 with a zone') },
      { name: 'direction', required: true, description: msg('inbound or outbound') },
      {
        name: 'status',
        required: true,
        description: msg('answered, no_answer, busy, failed, delivered, pending, rejected or in_progress'),
      },
      { name: 'from_number', required: true, description: '' },
      { name: 'to_number', required: true, description: '' },
      { name: 'duration_seconds', required: false, description: msg('whole seconds') },
      { name: 'units', required: false, description: msg('parts billed, default 1') },
      { name: 'price_minor', required: false, description: msg('integer minor units (pence, cents)') },
      { name: 'contact_name', required: false, description: msg('SMS and messaging only') },
      { name: 'content', required: false, description: msg('SMS and messaging only') },
    ],
    fromRow: (r) => ({
      identifier: textCell(r.identifier),
      account_id: textCell(r.account_id),
      product: textCell(r.product),
      occurred_at: textCell(r.occurred_at),
      direction: textCell(r.direction),
      status: textCell(r.status),
      from_number: textCell(r.from_number),
      to_number: textCell(r.to_number),
      duration_seconds: numberCell(r.duration_seconds),
      units: numberCell(r.units),
      price_minor: numberCell(r.price_minor),
      contact_name: textCell(r.contact_name),
      content: textCell(r.content),
    }),
    ingest: usageRecordKind,
  },
  {
    key: 'service-visits',
    label: msg('Service visits'),
    columns: [
      { name: 'site_id', required: true, description: msg('the site, as in its address /admin/sites/…') },
      { name: 'service', required: false, description: msg('the name of one of your services; empty for none') },
      { name: 'vehicle', required: true, description: msg('its name or registration') },
      { name: 'started_at', required: true, description: msg('ISO 8601 with a zone') },
      { name: 'ended_at', required: true, description: msg('ISO 8601 with a zone') },
      { name: 'completed', required: false, description: msg('yes or no (default yes)') },
      { name: 'notes', required: false, description: msg('up to 2,000 characters') },
    ],
    fromRow: (r) => ({
      site_id: textCell(r.site_id),
      service: textCell(r.service),
      vehicle: textCell(r.vehicle),
      started_at: textCell(r.started_at),
      ended_at: textCell(r.ended_at),
      completed: booleanCell(r.completed),
      notes: textCell(r.notes),
    }),
    ingest: serviceVisitKind,
  },
  {
    key: 'devices',
    label: msg('Devices to register (inactive until activated)'),
    columns: [
      { name: 'account_id', required: true, description: msg('the customer, by its account id') },
      { name: 'identifier', required: true, description: msg('IMEI or serial: 4 to 32 letters, digits or hyphens') },
      { name: 'name', required: false, description: msg('up to 200 characters') },
      {
        name: 'group',
        required: false,
        description: msg(
          'the customer’s group, its path as the lists show it (Trucks / North); required if it has groups',
        ),
      },
      { name: 'plan', required: false, description: msg('monthly (default), quarterly or yearly') },
    ],
    fromRow: (r) => ({
      account_id: textCell(r.account_id),
      identifier: textCell(r.identifier),
      name: textCell(r.name),
      group: textCell(r.group),
      plan: textCell(r.plan),
    }),
    ingest: deviceImportKind,
  },
];

export const MAX_IMPORT_ROWS = 200_000;

export function importKind(key: string): CsvImportKind | undefined {
  return IMPORT_KINDS.find((k) => k.key === key);
}

/** Line numbers for people: the header is line 1, so record i (from 0) is on line i + 2. */
export const lineOf = (index: number) => index + 2;

/**
 * The file's rows as records of the kind. A file the CSV library cannot read, or whose header
 * lacks a required column, is a ValidationError on `file`.
 */
export function parseCsvRecords(kind: CsvImportKind, content: string): Record<string, unknown>[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(content, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      bom: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: false,
    });
  } catch (err) {
    // the library's own reason stays English: it names the place in the file
    throw new ValidationError({
      file: msg('This file could not be read as CSV: {reason}', { reason: (err as Error).message }),
    });
  }
  if (!rows.length) throw new ValidationError({ file: msg('The file has no rows under its header.') });
  if (rows.length > MAX_IMPORT_ROWS)
    throw new ValidationError({
      file: msg('A file holds at most {max, number} rows; this one has {count, number}. Split it.', {
        max: MAX_IMPORT_ROWS,
        count: rows.length,
      }),
    });
  const header = Object.keys(rows[0]!);
  const missing = kind.columns.filter((c) => c.required && !header.includes(c.name)).map((c) => c.name);
  if (missing.length)
    throw new ValidationError({
      file: msg(
        '{count, plural, one {The header lacks the column {columns}.} other {The header lacks the columns {columns}.}}',
        {
          count: missing.length,
          columns: missing.join(', '),
        },
      ),
    });
  return rows.map((r) => kind.fromRow(r));
}
