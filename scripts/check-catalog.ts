/**
 * The message catalog's check, part of `npm run check` (see src/services/platform/i18n.ts):
 * - a template (src/views/**.eta) holds no visible text, and no readable attribute (title, aria-label,
 *   placeholder, alt, a button's value…), that does not come from `t()`;
 * - every message the code names (`t('…')`, `msg('…')`, an error's message) is valid ICU and is in every
 *   language's catalog, with the same placeholders;
 * - no language's catalog holds a message nobody uses, or two files translating one message differently.
 * `tsx scripts/check-catalog.ts [folder…]` checks only the templates under those folders.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** words every language writes the same: the product's name and codes nobody translates */
export const UNTRANSLATED = new Set([
  'Portico',
  'CSV',
  'JSON',
  'JSONL',
  'API',
  'ID',
  'IMEI',
  'ICCID',
  'MSISDN',
  'SIM',
  'SMS',
  'IP',
  'URL',
  'UTC',
  'TOTP',
  'QR',
  'PDF',
  'OK',
  'htmx',
]);

/** attributes a person reads or hears */
const READABLE_ATTRIBUTES = ['title', 'aria-label', 'placeholder', 'alt', 'aria-description', 'aria-roledescription'];

const HOLE = '\u0001';
/** where a tag was: text on either side of it is not one run */
const TAG = '\u0002';

function words(text: string): string[] {
  return (
    text
      .replaceAll(HOLE, ' ')
      .replace(/&[a-zA-Z]+;|&#\d+;|&#x[0-9a-fA-F]+;/g, ' ')
      .match(/\p{L}[\p{L}\p{N}'’.-]*/gu) ?? []
  )
    .map((w) => w.replace(/[.'’-]+$/, ''))
    .filter((w) => w.length > 1 && !UNTRANSLATED.has(w));
}

const STRING = String.raw`'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|\x60((?:[^\x60\\$]|\\.|\$(?!\{))*)\x60`;

export type Finding = { file: string; line: number; text: string };

/** Visible text of a template that does not come from `t()` (Eta tags are holes, scripts and styles skipped). */
export function untranslatedText(source: string, file = ''): Finding[] {
  const lineAt = (index: number) => source.slice(0, index).split('\n').length;
  // keep offsets: replace what is not looked at by blanks of the same length
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  let text = source
    .replace(/<%[\s\S]*?%>/g, (m) => HOLE + blank(m).slice(1))
    .replace(/<!--[\s\S]*?-->/g, blank)
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/gi, (m) => blank(m));
  const found: Finding[] = [];
  // in template code, a string that reads as prose ("Time zone", not 'badge-active' or '/assets') and is
  // not the message of a t() or msg() call
  for (const tag of source.matchAll(/<%(?!\/\*)([\s\S]*?)%>/g)) {
    const code = tag[1]!.replace(new RegExp(String.raw`(?:\bt|\bmsg|\.t)\(\s*(?:${STRING})`, 'g'), '');
    for (const lit of code.matchAll(new RegExp(STRING, 'g'))) {
      const value = lit[1] ?? lit[2] ?? lit[3] ?? '';
      if (/^[A-Z][a-z]+\b/.test(value) && words(value).length && !/^[\w-]+\.[\w.-]+$/.test(value))
        found.push({ file, line: lineAt(tag.index), text: `'${value}' in template code` });
    }
  }
  // attributes: a readable one, or the value of a button-like input
  text = text.replace(/<[a-zA-Z!][^>]*>/g, (tag, offset: number) => {
    for (const attr of READABLE_ATTRIBUTES) {
      const re = new RegExp(`\\s${attr}="([^"]*)"`, 'g');
      for (const m of tag.matchAll(re))
        if (words(m[1]!).length) found.push({ file, line: lineAt(offset), text: `${attr}="${m[1]!.trim()}"` });
    }
    if (/^<input\b/i.test(tag) && /\stype="(submit|button|reset)"/i.test(tag)) {
      const v = /\svalue="([^"]*)"/.exec(tag);
      if (v && words(v[1]!).length) found.push({ file, line: lineAt(offset), text: `value="${v[1]!.trim()}"` });
    }
    return TAG + blank(tag).slice(1);
  });
  text = text.replace(/<\/[a-zA-Z][^>]*>/g, (m) => TAG + blank(m).slice(1));
  let at = 0;
  for (const part of text.split(TAG)) {
    if (words(part).length) {
      const start = at + part.length - part.trimStart().length;
      found.push({ file, line: lineAt(start), text: part.replaceAll(HOLE, '…').replace(/\s+/g, ' ').trim() });
    }
    at += part.length + TAG.length;
  }
  return found;
}

/** the errors whose first argument is a message (src/errors.ts, and sign-in's refusal) */
const ERRORS = 'NotFound|Forbidden|Conflict|TooManyRequests|Validation|Busy|BadRequest|SignInRefused';
const MESSAGE_CALLS = new RegExp(String.raw`(?:\bt|\bmsg|\.t|new (?:${ERRORS})Error)\(\s*(?:${STRING})`, 'g');

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

/** The messages a source file names, with their lines. */
export function messagesIn(source: string): { id: string; line: number }[] {
  const out: { id: string; line: number }[] = [];
  for (const m of source.matchAll(MESSAGE_CALLS)) {
    const raw = m[1] ?? m[2] ?? m[3];
    if (raw === undefined || raw === '') continue;
    const lineStart = source.lastIndexOf('\n', m.index) + 1;
    if (/^\s*(\*|\/\/|\/\*)/.test(source.slice(lineStart, m.index))) continue; // an example in a comment
    out.push({ id: unescape(raw), line: source.slice(0, m.index).split('\n').length });
  }
  return out;
}

function argumentsOf(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const e of elements) {
    if (e.type === TYPE.argument || e.type === TYPE.number || e.type === TYPE.date || e.type === TYPE.time)
      into.add(e.value);
    if (e.type === TYPE.plural || e.type === TYPE.select) {
      into.add(e.value);
      for (const o of Object.values(e.options)) argumentsOf(o.value, into);
    }
    if (e.type === TYPE.tag) {
      into.add(`<${e.value}>`);
      argumentsOf(e.children, into);
    }
  }
  return into;
}

function walk(dir: string, ext: string[], into: string[] = []): string[] {
  if (!statSync(dir).isDirectory()) return ext.some((e) => dir.endsWith(e)) ? [...into, dir] : into;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, ext, into);
    else if (ext.some((e) => name.endsWith(e))) into.push(p);
  }
  return into;
}

export function checkCatalog(opts: { templateDirs?: string[] } = {}): string[] {
  const problems: string[] = [];
  const rel = (p: string) => path.relative(root, p);
  const templateDirs = opts.templateDirs?.length ? opts.templateDirs : [path.join(root, 'src/views')];
  for (const dir of templateDirs)
    for (const file of walk(path.resolve(root, dir), ['.eta']))
      for (const f of untranslatedText(readFileSync(file, 'utf8'), rel(file)))
        problems.push(`${f.file}:${f.line}: text outside t(): ${f.text}`);

  const used = new Map<string, string>(); // message → where first used
  // the JSON API answers in English for machines: its messages are not the catalog's
  const forMachines = (file: string) => /src\/(routes\/api\/|web\/api\.ts)/.test(file);
  for (const file of walk(path.join(root, 'src'), ['.ts', '.eta']).filter((f) => !forMachines(f))) {
    for (const { id, line } of messagesIn(readFileSync(file, 'utf8'))) {
      if (!used.has(id)) used.set(id, `${rel(file)}:${line}`);
    }
  }
  const english = new Map<string, Set<string>>();
  for (const [id, where] of used) {
    try {
      english.set(id, argumentsOf(parse(id)));
    } catch (err) {
      problems.push(`${where}: not a valid ICU message (${(err as Error).message}): ${id}`);
    }
  }

  const localesDir = path.join(root, 'src/locales');
  for (const locale of readdirSync(localesDir)) {
    const catalog = new Map<string, { text: string; file: string }>();
    for (const file of walk(path.join(localesDir, locale), ['.json'])) {
      let entries: Record<string, unknown>;
      try {
        entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        problems.push(`${rel(file)}: not JSON (${(err as Error).message})`);
        continue;
      }
      for (const [id, text] of Object.entries(entries)) {
        if (typeof text !== 'string' || !text.trim()) {
          problems.push(`${rel(file)}: no ${locale} text for: ${id}`);
          continue;
        }
        const before = catalog.get(id);
        if (before && before.text !== text)
          problems.push(`${rel(file)}: translates "${id}" unlike ${before.file} ("${text}" / "${before.text}")`);
        catalog.set(id, { text, file: rel(file) });
      }
    }
    for (const [id, where] of used) {
      const entry = catalog.get(id);
      if (!entry) {
        problems.push(`${where}: missing in ${locale}: ${id}`);
        continue;
      }
      const want = english.get(id);
      if (!want) continue;
      try {
        const got = argumentsOf(parse(entry.text));
        const same = want.size === got.size && [...want].every((a) => got.has(a));
        if (!same)
          problems.push(
            `${entry.file}: placeholders of "${id}" differ: {${[...want].join(', ')}} / {${[...got].join(', ')}}`,
          );
      } catch (err) {
        problems.push(`${entry.file}: not a valid ICU message (${(err as Error).message}): ${entry.text}`);
      }
    }
    for (const [id, entry] of catalog)
      if (!used.has(id)) problems.push(`${entry.file}: no code uses this message any more: ${id}`);
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkCatalog({ templateDirs: process.argv.slice(2) });
  for (const p of problems) console.error(p);
  if (problems.length) {
    console.error(`\n${problems.length} problem(s) in the message catalog (see src/services/platform/i18n.ts)`);
    process.exit(1);
  }
  console.log('message catalog: every text comes from t(), every message is translated');
}
