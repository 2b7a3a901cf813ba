import { describe, expect, it } from 'vitest';
import { messagesIn, untranslatedText } from '../../scripts/check-catalog.js';
import { msg, translator } from '../../src/services/platform/i18n.js';

/** The catalog check must catch what a translator would miss, or it proves nothing. */
describe('the message catalog check', () => {
  it('finds visible text, readable attributes and prose in template code that do not come from t()', () => {
    const found = untranslatedText(
      [
        '<h1>Devices</h1>',
        '<p><%= t("Renews on {date}", { date: it.day }) %></p>',
        '<button type="submit" aria-label="Remove device">×</button>',
        '<input type="submit" value="Save">',
        "<%~ include('/partials/_field', { name: 'name', label: 'Time zone' }) %>",
        '<span class="badge badge-active"><%= t(it.status) %></span>',
        '<p>Portico &middot; <%= it.count %></p>',
        '<script>const x = "Not shown";</script>',
      ].join('\n'),
      'x.eta',
    ).map((f) => `${f.line}: ${f.text}`);
    expect(found).toEqual([
      "5: 'Time zone' in template code",
      '3: aria-label="Remove device"',
      '4: value="Save"',
      '1: Devices',
    ]);
  });

  it('reads the messages the code names, not the examples in its comments', () => {
    const source = [
      "throw new ConflictError('{name} is taken.').withValues({ name });",
      "const label = msg('Monthly');",
      "// t('Not this one')",
      "res.flash('success', msg(\"It's saved.\"));",
      '<%= t(`Page {page}`, { page }) %>',
    ].join('\n');
    expect(messagesIn(source).map((m) => m.id)).toEqual(['{name} is taken.', 'Monthly', "It's saved.", 'Page {page}']);
  });

  it('speaks German from the catalog and English from the message itself, plurals and values included', () => {
    const de = translator('de');
    expect(de.t('Sign out')).toBe('Abmelden');
    expect(de.t(msg('Page {page} of {pages}', { page: 2, pages: 9 }))).toBe('Seite 2 von 9');
    expect(translator('en').t('{count, plural, one {# asset} other {# assets}}', { count: 1200 })).toBe('1,200 assets');
    expect(de.dateTime(new Date('2026-12-06T12:00:00Z'), 'Europe/Berlin')).toBe('6. Dez. 2026, 13:00 MEZ');
    expect(translator('en').dateTime(new Date('2026-12-06T12:00:00Z'), 'Europe/London')).toBe('6 Dec 2026, 12:00 GMT');
    // a text made of user data that happens to look like ICU is shown as written, never a failed page
    expect(de.t('Acme {North} Ltd')).toBe('Acme {North} Ltd');
    expect(de.t('Unclosed {brace')).toBe('Unclosed {brace');
  });
});
