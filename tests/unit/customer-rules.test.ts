import { describe, expect, it } from 'vitest';
import { english } from '../../src/services/platform/i18n.js';
import { createViews } from '../../src/web/render.js';
import {
  checkCustomerForm,
  confirmsTitle,
  differenceOf,
  escapeLike,
  listQueryFrom,
} from '../../src/services/customers/rules.js';

const valid = { title: 'Fjord Freight', account_id: 'FF-1' };

describe('customer list parameters', () => {
  it('falls back to the first page of 25 for missing or odd values', () => {
    expect(listQueryFrom({})).toEqual({ q: '', page: 1, size: 25 });
    expect(listQueryFrom({ page: '0', size: '30' })).toEqual({ q: '', page: 1, size: 25 });
    expect(listQueryFrom({ page: '2.5', size: 'x' })).toEqual({ q: '', page: 1, size: 25 });
    expect(listQueryFrom({ q: ['  north ', 'x'], page: '3', size: '50' })).toEqual({ q: 'north', page: 3, size: 50 });
  });

  it('makes LIKE wildcards in a search match only themselves', () => {
    expect(escapeLike('50%_off\\')).toBe('50\\%\\_off\\\\');
  });
});

describe('customer fields', () => {
  it('accepts a title of 200 characters and refuses 201', () => {
    expect(checkCustomerForm({ ...valid, title: 'é'.repeat(200) }).errors).toEqual({});
    expect(checkCustomerForm({ ...valid, title: 'é'.repeat(201) }).errors.title).toMatch(/200 characters/);
  });

  it('accepts account IDs of 1 to 32 letters, digits, hyphens and underscores only', () => {
    expect(checkCustomerForm({ ...valid, account_id: 'A' }).errors).toEqual({});
    expect(checkCustomerForm({ ...valid, account_id: `a_b-${'9'.repeat(28)}` }).errors).toEqual({});
    for (const bad of ['', 'X'.repeat(33), 'NW 1', 'NW/1', 'ÅS-1'])
      expect(checkCustomerForm({ ...valid, account_id: bad }).errors.account_id).toBeTruthy();
  });

  it('trims what is kept, stores empty optional fields as nothing and defaults home page and status', () => {
    const { fields, errors } = checkCustomerForm({
      title: '  Fjord  ',
      account_id: ' FF-1 ',
      contact_name: '  ',
      email: '',
    });
    expect(errors).toEqual({});
    expect(fields).toEqual({
      title: 'Fjord',
      account_id: 'FF-1',
      contact_name: null,
      email: null,
      phone: null,
      address: null,
      parent_id: null,
      home_page: 'summary',
      status: 'active',
    });
  });

  it('refuses a malformed email, an unknown home page or status, and a parent that is not an id', () => {
    const { errors } = checkCustomerForm({
      ...valid,
      email: 'a@b',
      home_page: 'dashboard',
      status: 'gone',
      parent_id: '1; drop table',
    });
    expect(Object.keys(errors).sort()).toEqual(['email', 'home_page', 'parent_id', 'status']);
  });
});

describe('confirming a deletion', () => {
  it('needs the exact title, forgiving only surrounding spaces', () => {
    expect(confirmsTitle(' Acme Ltd ', 'Acme Ltd')).toBe(true);
    expect(confirmsTitle('acme ltd', 'Acme Ltd')).toBe(false);
    expect(confirmsTitle('Acme  Ltd', 'Acme Ltd')).toBe(false);
    expect(confirmsTitle(undefined, 'Acme Ltd')).toBe(false);
  });
});

describe('audit differences', () => {
  it('lists only the fields that changed, as { field: { before, after } }', () => {
    expect(differenceOf({ title: 'A', status: 'active' }, { title: 'B', status: 'active' })).toEqual({
      title: { before: 'A', after: 'B' },
    });
    expect(differenceOf(null, { title: 'New' })).toEqual({ title: { before: null, after: 'New' } });
  });
});

describe('the pagination partial', () => {
  const views = createViews(false);
  const render = (data: Record<string, unknown>) => views.render('/partials/_pagination', { i18n: english, ...data });

  it('shows Previous and Next with page numbers, keeping the query string', () => {
    const html = render({ page: 2, size: 10, total: 25, baseUrl: '/admin/customers?q=a%26b' });
    expect(html).toContain('Page 2 of 3');
    expect(html).toContain('href="/admin/customers?q=a%26b&amp;page=1" rel="prev" aria-label="Previous page, page 1"');
    expect(html).toContain('href="/admin/customers?q=a%26b&amp;page=3" rel="next" aria-label="Next page, page 3"');
    expect(html).not.toContain('hx-get');
  });

  it('works from "has more" when the total is unknown, and adds htmx swaps only when given a target', () => {
    const html = render({ page: 1, size: 10, hasMore: true, baseUrl: '/things', target: '#things' });
    expect(html).toContain('Page 1<');
    expect(html).not.toContain('Previous');
    expect(html).toContain('href="/things?page=2"');
    expect(html).toContain('hx-get="/things?page=2" hx-target="#things" hx-swap="outerHTML" hx-push-url="true"');
  });

  it('renders nothing for a list that fits on one page', () => {
    expect(render({ page: 1, size: 25, total: 3, baseUrl: '/things' }).trim()).toBe('');
  });
});
