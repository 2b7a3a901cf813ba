import { type MailLinks, unsubscribeUrl } from '../mail/index.js';
import { type Period } from './period-rules.js';
import type { Day } from '../assets/subscription-rules.js';
import { english, msg, type Translator } from '../platform/index.js';

/**
 * The texts of the scheduled reports: every sentence a person reads is a message of REPORT_TEXT below
 * (an English ICU message of the catalog, see services/platform/i18n.ts), and the builders only put the
 * messages together, written with a Translator in the recipient's language.
 */
export const REPORT_TEXT = {
  hello: msg('Hello {name},'),
  digestSubject: msg('Weekly fleet digest for the week of {from}'),
  digestIntro: msg('Your fleet for the week from {from} to {to}.'),
  digestSection: msg('{place}:'),
  digestDue: msg(
    '{count, plural, =0 {- No asset renews within the next 4 weeks.} one {- # asset renews within the next 4 weeks (listed in the attached CSV).} other {- # assets renew within the next 4 weeks (listed in the attached CSV).}}',
  ),
  digestPending: msg(
    '{count, plural, =0 {- No request is pending.} one {- # request is pending.} other {- # requests are pending.}}',
  ),
  digestTickets: msg(
    '{count, plural, =0 {- No ticket is waiting for you.} one {- # ticket is waiting for you:} other {- # tickets are waiting for you:}}',
  ),
  digestMoreTickets: msg('- {count}+ tickets are waiting for you:'),
  statementSubject: msg('Monthly statement for {month}: {account}'),
  statementIntro: msg("Your telecom account's usage and charges in {month}."),
  statementAccount: msg('{customer} (account {account})'),
  statementProduct: msg('- {product}: {records, plural, one {# record} other {# records}}, {charges}'),
  statementCharges: msg('Charges in the month: {charges}'),
  statementBalance: msg('Balance today: {balance}'),
  statementAttached: msg('The attached CSV has the figures per product and day.'),
  statementLink: msg('Your usage in the portal: {url}'),
  whyDigest: msg('You get this mail because the weekly fleet digest is turned on in your settings at {provider}.'),
  whyStatement: msg('You get this mail because the monthly statement is turned on in your settings at {provider}.'),
  stopDigest: msg('Stop the weekly fleet digest: {url}'),
  stopStatement: msg('Stop the monthly statement: {url}'),
  settings: msg('Or choose which mail you get in your settings: {url}'),
} as const;

/** "31 March 2027" / "31. März 2027": a calendar day, the same everywhere (UTC). */
function longDay(tr: Translator, day: Day): string {
  return new Intl.DateTimeFormat(tr.locale === 'de' ? 'de-DE' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(`${day}T00:00:00Z`));
}

/** "March 2027" / "März 2027" */
function monthName(tr: Translator, start: Day): string {
  return new Date(`${start}T00:00:00Z`).toLocaleDateString(tr.locale === 'de' ? 'de-DE' : 'en-GB', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

export type DigestSection = {
  place: string;
  due: number;
  pendingRequests: number;
  tickets: { title: string; href: string }[];
  moreTickets: boolean;
};

export type StatementSection = {
  customer: string;
  accountId: string;
  products: { label: string; records: number; charges: string }[];
  charges: string;
  balance: string;
};

type Person = { name: string; userId: string; tenantName: string };

function footer(tr: Translator, links: MailLinks, person: Person, kind: 'weekly_digest' | 'monthly_statement') {
  const digest = kind === 'weekly_digest';
  const url = unsubscribeUrl(links, person.userId, kind);
  return [
    '',
    tr.t(digest ? REPORT_TEXT.whyDigest : REPORT_TEXT.whyStatement, { provider: person.tenantName }),
    tr.t(digest ? REPORT_TEXT.stopDigest : REPORT_TEXT.stopStatement, { url }),
    tr.t(REPORT_TEXT.settings, { url: `${links.baseUrl}/settings` }),
  ];
}

export function digestMail(
  person: Person,
  week: Period,
  sections: DigestSection[],
  links: MailLinks,
  tr: Translator = english,
) {
  const out = [
    tr.t(REPORT_TEXT.hello, { name: person.name }),
    '',
    tr.t(REPORT_TEXT.digestIntro, { from: longDay(tr, week.from), to: longDay(tr, week.to) }),
  ];
  for (const s of sections) {
    out.push('', tr.t(REPORT_TEXT.digestSection, { place: s.place }), tr.t(REPORT_TEXT.digestDue, { count: s.due }));
    if (s.due) out.push(`  ${links.baseUrl}/assets?due=28d`);
    out.push(
      tr.t(REPORT_TEXT.digestPending, { count: s.pendingRequests }),
      s.moreTickets
        ? tr.t(REPORT_TEXT.digestMoreTickets, { count: s.tickets.length })
        : tr.t(REPORT_TEXT.digestTickets, { count: s.tickets.length }),
    );
    for (const t of s.tickets) out.push(`  ${t.title}: ${links.baseUrl}${t.href}`);
  }
  out.push(...footer(tr, links, person, 'weekly_digest'));
  return {
    subject: tr.t(REPORT_TEXT.digestSubject, { from: longDay(tr, week.from) }),
    text: out.join('\n') + '\n',
  };
}

export function statementMail(
  person: Person,
  month: Period,
  sections: StatementSection[],
  links: MailLinks,
  tr: Translator = english,
) {
  const name = monthName(tr, month.from);
  const out = [tr.t(REPORT_TEXT.hello, { name: person.name }), '', tr.t(REPORT_TEXT.statementIntro, { month: name })];
  for (const s of sections) {
    out.push('', tr.t(REPORT_TEXT.statementAccount, { customer: s.customer, account: s.accountId }));
    for (const p of s.products)
      out.push(tr.t(REPORT_TEXT.statementProduct, { product: tr.t(p.label), records: p.records, charges: p.charges }));
    out.push(
      tr.t(REPORT_TEXT.statementCharges, { charges: s.charges }),
      tr.t(REPORT_TEXT.statementBalance, { balance: s.balance }),
    );
  }
  out.push(
    '',
    tr.t(REPORT_TEXT.statementAttached),
    tr.t(REPORT_TEXT.statementLink, { url: `${links.baseUrl}/usage` }),
    ...footer(tr, links, person, 'monthly_statement'),
  );
  const accounts = sections.map((s) => s.accountId).join(', ');
  return {
    subject: tr.t(REPORT_TEXT.statementSubject, { month: name, account: accounts }),
    text: out.join('\n') + '\n',
  };
}
