import type { Express } from 'express';
import type supertest from 'supertest';
import { listRoutes } from './routes.js';

/**
 * The forms the app really renders, found the way a person finds them: sign in, follow the links
 * of each page (one page per route, GET only, so nothing changes), and read every <form> on the way.
 * A form knows the route it posts to (`POST /groups/:id`), the visitor who saw it, the concrete
 * address, and its fields with the values the page filled in.
 */

export type FormField = {
  name: string;
  value: string;
  /** text: typed (input, textarea); choice: picked (select, radio, checkbox); hidden; file */
  kind: 'text' | 'choice' | 'hidden' | 'file';
  /** a select's option values, in order */
  options?: string[];
};

export type FoundForm = {
  /** the route it posts to, as Express lists it: `POST /admin/customers/:id` */
  route: string;
  method: 'GET' | 'POST';
  action: string;
  /** the page it was found on */
  page: string;
  multipart: boolean;
  fields: FormField[];
};

/** HTML text as a person reads it: the entities Eta's escaping writes, turned back. */
export const decode = (s: string) =>
  s
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
/** The message shown next to a form field (`id="f-<name>-error"`), as a person reads it; '' when there is none. */
export const fieldError = (html: string, name: string) =>
  decode(new RegExp(`id="f-${name}-error">([^<]*)<`).exec(html)?.[1] ?? '');
const attr = (tag: string, name: string) =>
  new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1] ?? new RegExp(`\\s${name}(?=[\\s>/])`).exec(tag)?.[0].trim();

/**
 * Matches concrete paths to the routes the app lists, the most specific first
 * (`/assets/request-activation` before `/assets/:id`).
 */
export function routeMatcher(app: Express) {
  const routes = listRoutes(app).map((r) => {
    const [method, path] = r.split(' ') as [string, string];
    const source = path
      .split(/(:\w+)/)
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')))
      .join('');
    return { route: r, method, pattern: new RegExp(`^${source}$`), params: (path.match(/:\w+/g) ?? []).length, path };
  });
  routes.sort((a, b) => a.params - b.params || b.path.length - a.path.length);
  return (method: string, path: string) =>
    routes.find((r) => r.method === method && r.pattern.test(path))?.route ?? null;
}

/** The forms of a page's HTML (`page` is its path, the action of a form that names none). */
export function formsOf(html: string, page: string, match: ReturnType<typeof routeMatcher>): FoundForm[] {
  const forms: FoundForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const [, head, body] = m as unknown as [string, string, string];
    const method = (attr(head, 'method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';
    const action = decode(attr(head, 'action') || attr(head, 'hx-post') || attr(head, 'hx-get') || page).split('#')[0]!;
    const path = action.split('?')[0]!;
    const route = match(method, path);
    if (!route || !path.startsWith('/')) continue;
    const fields: FormField[] = [];
    const controls =
      /<textarea\b([^>]*)>([\s\S]*?)<\/textarea>|<select\b([^>]*)>([\s\S]*?)<\/select>|<input\b([^>]*)>/g;
    for (const t of body.matchAll(controls)) {
      const [, areaAttrs, areaText, selectAttrs, options, inputAttrs] = t;
      const attrs = areaAttrs ?? selectAttrs ?? inputAttrs ?? '';
      const name = attr(attrs, 'name');
      if (!name || attr(attrs, 'disabled')) continue;
      if (areaAttrs !== undefined) fields.push({ name, value: decode(areaText ?? ''), kind: 'text' });
      else if (selectAttrs !== undefined) {
        const all = [...(options ?? '').matchAll(/<option\b([^>]*)>/g)].map((o) => o[1]!);
        const chosen = all.find((o) => attr(o, 'selected')) ?? all[0] ?? '';
        const values = all.map((o) => decode(attr(o, 'value') ?? ''));
        fields.push({ name, value: decode(attr(chosen, 'value') ?? ''), kind: 'choice', options: values });
        continue;
      }
      if (inputAttrs === undefined) continue;
      const type = (attr(attrs, 'type') ?? 'text').toLowerCase();
      if (type === 'checkbox' || type === 'radio') {
        if (attr(attrs, 'checked')) fields.push({ name, value: decode(attr(attrs, 'value') ?? 'on'), kind: 'choice' });
      } else if (type === 'file') fields.push({ name, value: '', kind: 'file' });
      else if (!['submit', 'button', 'image', 'reset'].includes(type))
        fields.push({ name, value: decode(attr(attrs, 'value') ?? ''), kind: type === 'hidden' ? 'hidden' : 'text' });
    }
    forms.push({ route, method, action, page, multipart: /multipart\/form-data/.test(head), fields });
  }
  return forms;
}

/**
 * Every form a visitor meets on the `start` pages (each visited) and the pages their same-origin
 * links lead to (one page per GET route, at most `maxPages` in all), never a link that signs in
 * by link or downloads.
 */
export async function crawlForms(
  agent: ReturnType<typeof supertest.agent>,
  app: Express,
  start: string[],
  opts: { maxPages?: number; skip?: RegExp } = {},
): Promise<FoundForm[]> {
  const match = routeMatcher(app);
  const skip = opts.skip ?? /^\/(link\/|logout)|\.(csv|json|jsonl)(\?|$)|\/pictures\//;
  const seenRoutes = new Set<string>();
  const queue = start.map((url) => ({ url, seed: true }));
  const found: FoundForm[] = [];
  let pages = 0;
  while (queue.length && pages < (opts.maxPages ?? 150)) {
    const { url, seed } = queue.shift()!;
    const route = match('GET', url.split('?')[0]!);
    if (!route || (seenRoutes.has(route) && !seed) || skip.test(url)) continue;
    seenRoutes.add(route);
    const res = await agent.get(url);
    pages++;
    if (res.status !== 200 || !res.type.includes('html')) continue;
    found.push(...formsOf(res.text, url, match));
    for (const l of res.text.matchAll(/\shref="(\/[^"#]*)"/g)) {
      const link = decode(l[1]!);
      if (!link.startsWith('//') && !link.startsWith('/static/')) queue.push({ url: link, seed: false });
    }
  }
  return found;
}
