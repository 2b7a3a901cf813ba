/**
 * Text PostgreSQL can store. Its text and jsonb types hold no NUL character, and a UTF-16 surrogate
 * without its pair (possible in a JavaScript string, from JSON's `\ud800` or a form) is no character
 * at all: either fails the statement. Every text input is checked with this before it gets near a
 * query, so such input is refused by field instead of failing the request.
 */
// eslint-disable-next-line no-control-regex -- NUL is the very character looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export const UNSTORABLE_TEXT_MESSAGE = 'holds a character that cannot be stored (NUL or an unpaired surrogate)';

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** The text with each such character replaced by U+FFFD, the replacement character, to show back in a form. */
export function toStorableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, '\ufffd');
}

/**
 * A text's length in characters, as PostgreSQL's varchar(n) and JSON Schema's maxLength count them:
 * a character outside the Basic Multilingual Plane (an emoji) is one, not the two UTF-16 units of `length`.
 */
export function textLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The first `max` characters of a text (as `textLength` counts them), never half of one. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = 0;
  let end = 0;
  for (const ch of text) {
    if (kept++ === max) break;
    end += ch.length;
  }
  return text.slice(0, end);
}
