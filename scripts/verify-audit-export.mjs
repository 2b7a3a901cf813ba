#!/usr/bin/env node
// Verifies a Portico audit log export (JSON Lines) offline, with Node alone:
//   node verify-audit-export.mjs audit-log.jsonl
// Each line's hash must be SHA-256 of its prev_hash followed by the line's JSON without `hash` (keys
// sorted, no whitespace), and each prev_hash the hash of the line before. Exit 0 intact, 1 broken.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const byBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const canonical = (v) =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort(byBytes)
          .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
let prev = null;
for (const [i, line] of lines.entries()) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    entry = {};
  }
  const { hash, ...rest } = entry;
  const linked = prev === null || rest.prev_hash === prev;
  if (
    !linked ||
    createHash('sha256')
      .update(`${rest.prev_hash}${canonical(rest)}`)
      .digest('hex') !== hash
  ) {
    console.error(`broken at line ${i + 1}${rest.id === undefined ? '' : ` (entry ${rest.id})`}`);
    process.exit(1);
  }
  if (prev === null) console.log(`first entry follows ${rest.prev_hash}`);
  prev = hash;
}
console.log(`${lines.length} entries verified; last hash ${prev}`);
