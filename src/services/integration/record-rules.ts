import { DIRECTIONS, PRODUCTS, USAGE_STATUSES } from '../billing/usage-rules.js';
import { textLength } from '../platform/text-rules.js';
import { msg } from '../platform/i18n.js';

/**
 * The shape of the records other systems send (device locations, usage records), written once as
 * field specifications: the checks below read them, and the API's OpenAPI document is generated
 * from the very same specifications, so what the document promises is what the check accepts.
 * Pure: no database, so the document can read them while modules load.
 */

export type FieldProblem = { field: string; message: string };

/** Text, trimmed; missing, null and '' are all "not given". */
type TextField = { type: 'text'; max: number; required?: boolean; description?: string };
type NumberField = {
  type: 'number';
  min: number;
  max: number;
  integer?: boolean;
  required?: boolean;
  /** what a missing number means (documented; the kind applies it) */
  default?: number;
  description?: string;
};
/** An ISO 8601 time with a zone; always required. */
type TimeField = { type: 'time'; description?: string };
/** One of a few words; always required. */
type ChoiceField = { type: 'choice'; values: readonly string[]; description?: string };
export type FieldSpec = TextField | NumberField | TimeField | ChoiceField;

export type RecordSpec = {
  fields: Record<string, FieldSpec>;
  /** at least one of these text fields must be given; the first is named when none is */
  oneOfRequired?: { fields: readonly string[]; message: string };
  /** these fields may be given only when `field` is one of `values` */
  onlyWhen?: { fields: readonly string[]; field: string; values: readonly string[]; message: string };
};

/** ISO 8601 with a time and a zone (Z or ±hh:mm): a time without a zone means nothing to a server. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const missing = (v: unknown) => v === undefined || v === null || v === '';

/** One field's value, or null with a problem (or null when an optional field is not given). */
function checkField(v: unknown, spec: FieldSpec): { value: unknown } | { problem: string } {
  switch (spec.type) {
    case 'text': {
      if (missing(v)) return spec.required ? { problem: msg('is required') } : { value: null };
      if (typeof v !== 'string') return { problem: msg('must be a string') };
      const t = v.trim();
      if (!t) return spec.required ? { problem: msg('is required') } : { value: null };
      if (textLength(t) > spec.max) return { problem: `has at most ${spec.max} characters` };
      return { value: t };
    }
    case 'number': {
      if (missing(v)) return spec.required ? { problem: msg('is required') } : { value: null };
      if (typeof v !== 'number' || !Number.isFinite(v)) return { problem: msg('must be a number') };
      if (spec.integer && !Number.isInteger(v)) return { problem: msg('must be a whole number') };
      if (v < spec.min || v > spec.max) return { problem: `must be between ${spec.min} and ${spec.max}` };
      return { value: v };
    }
    case 'time': {
      if (missing(v)) return { problem: msg('is required') };
      if (typeof v !== 'string' || !ISO_TIME.test(v))
        return { problem: msg('must be an ISO 8601 time with a zone, like 2026-12-01T08:30:00Z') };
      const d = new Date(v);
      return Number.isNaN(d.getTime()) ? { problem: msg('is not a real time') } : { value: d };
    }
    case 'choice': {
      if (missing(v)) return { problem: msg('is required') };
      if (typeof v !== 'string' || !spec.values.includes(v))
        return { problem: `must be one of ${spec.values.join(', ')}` };
      return { value: v };
    }
  }
}

/**
 * A record checked against its spec: every field's value (null when not given) and every problem,
 * field by field in the spec's order, then the spec's rules across fields.
 */
export function checkRecord(
  record: unknown,
  spec: RecordSpec,
): { values: Record<string, unknown>; problems: FieldProblem[] } {
  if (!isObject(record)) return { values: {}, problems: [{ field: '', message: msg('must be an object') }] };
  const values: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const [field, fieldSpec] of Object.entries(spec.fields)) {
    const result = checkField(record[field], fieldSpec);
    if ('problem' in result) problems.push({ field, message: result.problem });
    values[field] = 'value' in result ? result.value : null;
  }
  const named = (f: string) => problems.some((p) => p.field === f);
  const either = spec.oneOfRequired;
  if (either && either.fields.every((f) => values[f] === null && !named(f)))
    problems.push({ field: either.fields[0]!, message: either.message });
  const only = spec.onlyWhen;
  if (only && values[only.field] !== null && !only.values.includes(values[only.field] as string)) {
    const given = only.fields.find((f) => values[f] !== null && values[f] !== undefined);
    if (given) problems.push({ field: given, message: only.message });
  }
  return { values, problems };
}

export const LOCATION_RECORD = {
  fields: {
    identifier: {
      type: 'text',
      max: 64,
      required: true,
      description: 'The device, by its identifier (IMEI or serial)',
    },
    latitude: { type: 'number', min: -90, max: 90, required: true },
    longitude: { type: 'number', min: -180, max: 180, required: true },
    recorded_at: { type: 'time' },
  },
} as const satisfies RecordSpec;

const INT4 = 2_147_483_647;
const MESSAGE_PRODUCTS = ['sms', 'messaging'] as const;

export const USAGE_RECORD = {
  fields: {
    product: { type: 'choice', values: PRODUCTS },
    identifier: {
      type: 'text',
      max: 64,
      description: 'The asset (SIM or device); required unless account_id is given',
    },
    account_id: { type: 'text', max: 32, description: 'The customer; required unless identifier is given' },
    occurred_at: { type: 'time', description: 'ISO 8601 with a zone; at most a day in the future' },
    direction: { type: 'choice', values: DIRECTIONS },
    status: { type: 'choice', values: USAGE_STATUSES },
    from_number: { type: 'text', max: 32, required: true },
    to_number: { type: 'text', max: 32, required: true },
    duration_seconds: { type: 'number', min: 0, max: INT4, integer: true, default: 0 },
    units: { type: 'number', min: 0, max: INT4, integer: true, default: 1 },
    price_minor: {
      type: 'number',
      min: -Number.MAX_SAFE_INTEGER,
      max: Number.MAX_SAFE_INTEGER,
      integer: true,
      description:
        "Minor units; omitted, the customer's price list in force at occurred_at prices the record (0 without one)",
    },
    contact_name: { type: 'text', max: 200, description: 'SMS and messaging only' },
    content: { type: 'text', max: 5000, description: 'SMS and messaging only' },
  },
  oneOfRequired: {
    fields: ['identifier', 'account_id'],
    message: msg('is required unless account_id names the customer'),
  },
  onlyWhen: {
    fields: ['content', 'contact_name'],
    field: 'product',
    values: MESSAGE_PRODUCTS,
    message: msg('belongs to SMS and messaging records only'),
  },
} as const satisfies RecordSpec;
