import { formatDay } from '../assets/rules.js';
import { type MailLinks, unsubscribeUrl } from '../mail/index.js';
import { monthName, type Period } from './period-rules.js';

/**
 * The texts of the scheduled reports. English only today: every sentence a person reads is a message
 * of REPORT_TEXT below, a key with its English text (a function where it takes values), and the
 * builders only put the messages together, so moving them into a message catalog (issue 24's
 * translations) is replacing REPORT_TEXT by a lookup in the person's language, nothing else.
 */
export const REPORT_TEXT = {
  hello: (name: string) => `Hello ${name},`,
  digestSubject: (from: string) => `Weekly fleet digest for the week of ${from}`,
  digestIntro: (from: string, to: string) => `Your fleet for the week from ${from} to ${to}.`,
  digestSection: (place: string) => `${place}:`,
  digestDue: (n: number) =>
    n === 0
      ? '- No asset renews within the next 4 weeks.'
      : n === 1
        ? '- 1 asset renews within the next 4 weeks (listed in the attached CSV).'
        : `- ${n} assets renew within the next 4 weeks (listed in the attached CSV).`,
  digestDueLink: (url: string) => `  ${url}`,
  digestPending: (n: number) =>
    n === 0 ? '- No request is pending.' : n === 1 ? '- 1 request is pending.' : `- ${n} requests are pending.`,
  digestTickets: (n: number, more: boolean) =>
    n === 0
      ? '- No ticket is waiting for you.'
      : `- ${n}${more ? '+' : ''} ${n === 1 && !more ? 'ticket is' : 'tickets are'} waiting for you:`,
  digestTicket: (title: string, url: string) => `  ${title}: ${url}`,
  statementSubject: (month: string, account: string) => `Monthly statement for ${month}: ${account}`,
  statementIntro: (month: string) => `Your telecom account's usage and charges in ${month}.`,
  statementAccount: (title: string, account: string) => `${title} (account ${account})`,
  statementProduct: (label: string, records: number, charges: string) =>
    `- ${label}: ${records} ${records === 1 ? 'record' : 'records'}, ${charges}`,
  statementCharges: (charges: string) => `Charges in the month: ${charges}`,
  statementBalance: (balance: string) => `Balance today: ${balance}`,
  statementAttached: 'The attached CSV has the figures per product and day.',
  statementLink: (url: string) => `Your usage in the portal: ${url}`,
  why: (label: string, tenant: string) =>
    `You get this mail because the ${label.toLowerCase()} is turned on in your settings at ${tenant}.`,
  stop: (label: string, url: string) => `Stop the ${label.toLowerCase()}: ${url}`,
  settings: (url: string) => `Or choose which mail you get in your settings: ${url}`,
} as const;

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

function footer(links: MailLinks, person: Person, kind: 'weekly_digest' | 'monthly_statement', label: string) {
  return [
    '',
    REPORT_TEXT.why(label, person.tenantName),
    REPORT_TEXT.stop(label, unsubscribeUrl(links, person.userId, kind)),
    REPORT_TEXT.settings(`${links.baseUrl}/settings`),
  ];
}

export function digestMail(person: Person, week: Period, sections: DigestSection[], links: MailLinks) {
  const out = [REPORT_TEXT.hello(person.name), '', REPORT_TEXT.digestIntro(formatDay(week.from), formatDay(week.to))];
  for (const s of sections) {
    out.push('', REPORT_TEXT.digestSection(s.place), REPORT_TEXT.digestDue(s.due));
    if (s.due) out.push(REPORT_TEXT.digestDueLink(`${links.baseUrl}/assets?due=28d`));
    out.push(REPORT_TEXT.digestPending(s.pendingRequests), REPORT_TEXT.digestTickets(s.tickets.length, s.moreTickets));
    for (const t of s.tickets) out.push(REPORT_TEXT.digestTicket(t.title, `${links.baseUrl}${t.href}`));
  }
  out.push(...footer(links, person, 'weekly_digest', 'Weekly fleet digest'));
  return { subject: REPORT_TEXT.digestSubject(formatDay(week.from)), text: out.join('\n') + '\n' };
}

export function statementMail(person: Person, month: Period, sections: StatementSection[], links: MailLinks) {
  const name = monthName(month.from);
  const out = [REPORT_TEXT.hello(person.name), '', REPORT_TEXT.statementIntro(name)];
  for (const s of sections) {
    out.push('', REPORT_TEXT.statementAccount(s.customer, s.accountId));
    for (const p of s.products) out.push(REPORT_TEXT.statementProduct(p.label, p.records, p.charges));
    out.push(REPORT_TEXT.statementCharges(s.charges), REPORT_TEXT.statementBalance(s.balance));
  }
  out.push(
    '',
    REPORT_TEXT.statementAttached,
    REPORT_TEXT.statementLink(`${links.baseUrl}/usage`),
    ...footer(links, person, 'monthly_statement', 'Monthly statement'),
  );
  const accounts = sections.map((s) => s.accountId).join(', ');
  return { subject: REPORT_TEXT.statementSubject(name, accounts), text: out.join('\n') + '\n' };
}
