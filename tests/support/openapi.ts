import fc from 'fast-check';

/**
 * The part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that /api/v1/openapi.json uses, read two
 * ways: `check` says what is wrong with a value, and `validValue` / `invalidValue` are fast-check
 * arbitraries of values the schema accepts or refuses. Tests drive the API from the document itself
 * with them, so a schema that promises more or less than the code does shows up as a failure.
 */

export type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  allOf?: Schema[];
  not?: Schema;
  if?: Schema;
  then?: Schema;
  default?: unknown;
};
export type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
};
export type Operation = {
  parameters?: { name: string; in: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Schema }>; headers?: object }>;
  'x-scopes': string[];
};

/** A `$ref` inside the document, followed (`#/components/schemas/Location`). */
export function deref<T>(doc: Doc, node: T & { $ref?: string }): T {
  let n: T & { $ref?: string } = node;
  while (n.$ref)
    n = n.$ref
      .slice(2)
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], doc) as T & { $ref?: string };
  return n;
}

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const length = (s: string) => [...s].length;

/** What is wrong with `value` under `schema`: one line per problem, empty when it fits. */
export function check(doc: Doc, schema: Schema, value: unknown, at = '$'): string[] {
  const s = deref(doc, schema);
  const out: string[] = [];
  if (s.type) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number')))
      return [`${at}: ${JSON.stringify(value)?.slice(0, 40)} is not ${types.join('|')}`];
  }
  if (s.enum && !s.enum.some((e) => e === value)) out.push(`${at}: not one of ${s.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (s.minLength !== undefined && length(value) < s.minLength) out.push(`${at}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && length(value) > s.maxLength) out.push(`${at}: longer than ${s.maxLength}`);
    if (s.pattern && !new RegExp(s.pattern, 'u').test(value)) out.push(`${at}: does not match ${s.pattern}`);
    if (s.format === 'uuid' && !UUID.test(value)) out.push(`${at}: not a uuid`);
    if (s.format === 'date-time' && (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))))
      out.push(`${at}: not a date-time`);
    if (s.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) out.push(`${at}: not a date`);
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) out.push(`${at}: below ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) out.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) out.push(`${at}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) out.push(`${at}: more than ${s.maxItems} items`);
    if (s.items) value.forEach((v, i) => out.push(...check(doc, s.items!, v, `${at}[${i}]`)));
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) out.push(`${at}: lacks ${r}`);
    for (const [k, p] of Object.entries(s.properties ?? {}))
      if (k in o && o[k] !== undefined) out.push(...check(doc, p, o[k], `${at}.${k}`));
  }
  if (s.anyOf && !s.anyOf.some((b) => check(doc, b, value, at).length === 0)) out.push(`${at}: fits none of anyOf`);
  for (const b of s.allOf ?? []) out.push(...check(doc, b, value, at));
  if (s.not && check(doc, s.not, value, at).length === 0) out.push(`${at}: fits what it must not`);
  if (s.if && s.then && check(doc, s.if, value, at).length === 0) out.push(...check(doc, s.then, value, at));
  return out;
}

export type Overrides = Record<string, fc.Arbitrary<unknown>>;
/** Valid strings are text PostgreSQL can store (the document's descriptions say so): no NUL, no lone surrogate. */
const text = (min: number, max: number) =>
  fc.string({ unit: 'grapheme', minLength: min, maxLength: max }).filter((s) => !s.includes('\u0000'));

/** Values `schema` accepts; `overrides` (by property name) mix in values that name real records. */
export function validValue(
  doc: Doc,
  schema: Schema,
  overrides: Overrides = {},
  caps = { items: 3 },
): fc.Arbitrary<unknown> {
  const s = deref(doc, schema);
  const fits = (v: unknown) => check(doc, s, v).length === 0;
  if (s.enum) return fc.constantFrom(...s.enum);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['object'];
  const one = (t: string): fc.Arbitrary<unknown> => {
    switch (t) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return fc.integer({
          min: Math.max(s.minimum ?? -(2 ** 31), Number.MIN_SAFE_INTEGER),
          max: Math.min(s.maximum ?? 2 ** 31, Number.MAX_SAFE_INTEGER),
        });
      case 'number':
        return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true });
      case 'string': {
        if (s.format === 'date-time')
          return fc
            .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2026-11-30T00:00:00Z'), noInvalidDate: true })
            .map((d) => d.toISOString());
        if (s.format === 'uuid') return fc.uuid();
        if (s.format === 'date')
          return fc
            .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
            .map((d) => d.toISOString().slice(0, 10));
        const min = s.minLength ?? 0;
        const max = Math.min(s.maxLength ?? 40, min + 40);
        const base = s.pattern ? fc.stringMatching(new RegExp(s.pattern)) : text(min, max);
        if (s.maxLength === undefined || (s.pattern && s.pattern !== '\\S')) return base.filter(fits);
        // the longest text allowed, in characters outside the Basic Multilingual Plane too
        // (JSON Schema counts code points)
        const longest = fc
          .array(fc.constantFrom('a', 'é', '字', '😀'), { minLength: s.maxLength, maxLength: s.maxLength })
          .map((cs) => cs.join(''));
        return fc.oneof({ weight: 4, arbitrary: base }, { weight: 1, arbitrary: longest }).filter(fits);
      }
      case 'array':
        return fc.array(validValue(doc, s.items ?? {}, overrides, caps), {
          minLength: s.minItems ?? 0,
          maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? caps.items, caps.items)),
        });
      default: {
        const props = s.properties ?? {};
        const required = new Set(s.required ?? []);
        // a branch of anyOf names what must then be given as well
        const branches = s.anyOf?.length ? s.anyOf.map((b) => deref(doc, b)) : [{}];
        return fc
          .constantFrom(...branches)
          .chain((branch: Schema) => {
            const needed = new Set([...required, ...(branch.required ?? [])]);
            const arbs = Object.fromEntries(
              Object.entries(props).map(([k, p]) => {
                const branchProp = branch.properties?.[k];
                const own = validValue(doc, branchProp ? strictest(doc, p, branchProp) : p, overrides, caps);
                return [k, overrides[k] ? fc.oneof(overrides[k]!, own) : own];
              }),
            );
            return fc.record(arbs, { requiredKeys: [...needed].filter((k) => k in props) });
          })
          .filter(fits);
      }
    }
  };
  return fc.oneof(...types.map(one));
}

/** One schema that both `a` and `b` accept (for generating): the narrower type, both bounds, the branch's pattern. */
function strictest(doc: Doc, a: Schema, b: Schema): Schema {
  const x = deref(doc, a);
  const y = deref(doc, b);
  const types = (s: Schema) => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : undefined);
  const tx = types(x);
  const ty = types(y);
  const type = tx && ty ? tx.filter((t) => ty.includes(t)) : (tx ?? ty);
  return {
    ...x,
    ...y,
    ...(type ? { type } : {}),
    maxLength: Math.min(x.maxLength ?? Infinity, y.maxLength ?? Infinity),
  };
}

/** A value `schema` refuses, for a property of it: the wrong type, out of its bounds, not its pattern or enum. */
export function invalidValue(doc: Doc, schema: Schema): fc.Arbitrary<unknown> {
  const s = deref(doc, schema);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const wrong: fc.Arbitrary<unknown>[] = [];
  if (!types.includes('string')) wrong.push(fc.constantFrom('corpus', 'x'.repeat(300)));
  if (!types.includes('integer') && !types.includes('number')) wrong.push(fc.constantFrom(42, -1.5, 1e300));
  if (!types.includes('boolean')) wrong.push(fc.boolean());
  if (!types.includes('object')) wrong.push(fc.constant({ nested: { deeper: ['x'] } }));
  if (!types.includes('array')) wrong.push(fc.constant(['x', 1]));
  if (s.enum) wrong.push(fc.constantFrom('not-a-choice', `${String(s.enum[0])} `));
  if (types.includes('string')) {
    if (s.maxLength !== undefined) wrong.push(fc.integer({ min: 1, max: 50 }).map((n) => 'y'.repeat(s.maxLength! + n)));
    if (s.minLength) wrong.push(fc.constant(''));
    if (s.pattern === '\\S') wrong.push(fc.constantFrom(' ', '   \t'));
    if (s.format === 'date-time') wrong.push(fc.constantFrom('yesterday', '2026-12-01 10:00', '2026-13-45T10:00:00Z'));
    if (s.format === 'uuid') wrong.push(fc.constantFrom('not-a-uuid', '00000000-0000-0000-0000-00000000000g'));
  }
  if (types.includes('integer')) wrong.push(fc.constantFrom(0.5, 2 ** 60));
  if (s.minimum !== undefined) wrong.push(fc.integer({ min: 1, max: 1000 }).map((n) => s.minimum! - n));
  if (s.maximum !== undefined) wrong.push(fc.integer({ min: 1, max: 1000 }).map((n) => s.maximum! + n));
  return fc.oneof(...wrong).filter((v) => check(doc, s, v).length > 0);
}

/** Text PostgreSQL cannot store: the document says in words that any text field refuses it. */
export const unstorableText = fc.constantFrom('text\u0000nul', 'half \ud83d a pair', '\udc00', '\u0000');
