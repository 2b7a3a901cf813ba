import autocannon from 'autocannon';
import { csrfFrom } from '../../tests/support/app.js';

/**
 * The load of the scale test: signed-in people (one cookie each, keep-alive connections through
 * fetch) doing what their role does, one request after another, and every answer recorded with its
 * time, so the report can tell a fault window from the calm around it.
 */

/** one request: who, what, when (epoch ms), the status (0: no answer) and the instance that answered */
export type Sample = { user: string; what: string; start: number; end: number; status: number; by: string };

/** what came back; `by` is the instance that answered (HAProxy's X-Served-By) */
export type Answer = { status: number; text: string; location: string | null; by: string };

const COOKIE = 'portico.sid';

/** One person's browser: their session cookie and CSRF token; no redirects followed, so a lost session shows. */
export class Person {
  cookie = '';
  csrf = '';
  /** sign-ins after the first: a session that stopped working mid-run */
  lost = 0;
  constructor(
    readonly base: string,
    readonly name: string,
    readonly email: string,
    readonly password: string,
    readonly samples: Sample[],
    /** a page every signed-in visit of this person may open (the operator has no settings page) */
    readonly home = '/settings',
  ) {}

  async request(
    what: string,
    method: string,
    path: string,
    opts: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string>; base?: string } = {},
  ): Promise<Answer> {
    const start = Date.now();
    let answer: Answer = { status: 0, text: '', location: null, by: '' };
    try {
      const res = await fetch(`${opts.base ?? this.base}${path}`, {
        method,
        redirect: 'manual',
        headers: {
          ...(this.cookie ? { cookie: `${COOKIE}=${this.cookie}` } : {}),
          ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...(opts.json ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        body: opts.form ? new URLSearchParams(opts.form).toString() : opts.json ? JSON.stringify(opts.json) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
      for (const c of res.headers.getSetCookie()) {
        const m = new RegExp(`^${COOKIE.replace('.', '\\.')}=([^;]*)`).exec(c);
        if (m) this.cookie = m[1]!;
      }
      const by = res.headers.get('x-served-by') ?? '';
      answer = { status: res.status, text: await res.text(), location: res.headers.get('location'), by };
    } catch {
      // no answer at all (connection refused or reset, or no answer in 30 s): status 0
    }
    this.samples.push({ user: this.name, what, start, end: Date.now(), status: answer.status, by: answer.by });
    return answer;
  }

  /** Signs in through /login as a browser does, and keeps the CSRF token of the page it lands on. */
  async signIn(): Promise<void> {
    const page = await this.request('sign-in', 'GET', '/login');
    if (page.status !== 200) throw new Error(`${this.name}: /login answered ${page.status}`);
    const res = await this.request('sign-in', 'POST', '/login', {
      form: { email: this.email, password: this.password, _csrf: csrfFrom(page.text) },
    });
    if (res.status !== 303) throw new Error(`${this.name}: sign-in answered ${res.status}`);
    const home = await this.request('sign-in', 'GET', this.home);
    if (home.status !== 200) throw new Error(`${this.name}: ${this.home} after sign-in answered ${home.status}`);
    this.csrf = csrfFrom(home.text);
  }

  /** True when the session still works: a signed-in page answers instead of sending to /login. */
  async signedIn(): Promise<boolean> {
    const res = await this.request('session probe', 'GET', this.home);
    return res.status === 200;
  }
}

/** An answer that sends to /login means the session is gone: count it and sign in again, so the load goes on. */
export async function orSignInAgain(person: Person, answer: Answer): Promise<void> {
  if (answer.status === 303 && answer.location?.startsWith('/login')) {
    person.lost++;
    await person.signIn().catch(() => {});
  }
}

export type Action = (p: Person) => Promise<void>;

/** Runs each person's actions in turn, picked at random, until `stop` says so; a pause of `pauseMs` between. */
export async function drive(
  people: { person: Person; actions: Action[] }[],
  stop: () => boolean,
  pauseMs: number,
): Promise<void> {
  await Promise.all(
    people.map(async ({ person, actions }) => {
      while (!stop()) {
        const act = actions[Math.floor(Math.random() * actions.length)]!;
        await act(person).catch(() => {});
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
    }),
  );
}

export type Throughput = { rps: number; p50: number; p99: number; non2xx: number; errors: number };

/** autocannon against one page with one person's cookie, as the benchmarks measure pages. */
export async function throughput(url: string, cookie: string, seconds: number, connections: number) {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { cookie: `${COOKIE}=${cookie}`, 'hx-request': 'true' },
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  } satisfies Throughput;
}
