import { describe, expect, it } from 'vitest';
import { formText } from '../../src/web/forms.js';
import { cutText, textLength } from '../../src/services/platform/text-rules.js';

describe('text cut to a length', () => {
  it('cuts a form field at a whole character, never between the halves of one', () => {
    // by characters: three of them, the emoji whole (cutting its UTF-16 units left half of it, which no text may hold)
    expect(formText(3).parse('ab😀c')).toBe('ab😀');
    expect(formText(2).parse('ab😀c')).toBe('ab');
    expect(formText(3).parse(['not', 'text'])).toBe('');
  });

  it('counts characters as PostgreSQL and JSON Schema do: a character outside the BMP is one', () => {
    expect(textLength('a😀é')).toBe(3);
    expect(cutText('😀😀😀', 2)).toBe('😀😀');
    expect(cutText(`${'a'.repeat(199)}😀`, 200)).toBe(`${'a'.repeat(199)}😀`);
  });
});
