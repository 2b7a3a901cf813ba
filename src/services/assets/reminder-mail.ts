import { formatDay } from './rules.js';
import { type MailLinks, unsubscribeUrl } from '../mail/index.js';
import { daysBetween, PLAN_LABELS, type Day } from './subscription-rules.js';
import type { ReminderLine } from './renewal-reminders.js';

/** The renewal reminder a person gets: their assets due, grouped by why they get them, and how to stop it. */

/** a mail lists at most this many assets and points to the asset list for the rest */
export const MAIL_LIST_LIMIT = 200;

function reasonText(via: 0 | 1, viaName: string): string {
  return via === 0 ? `you are a company admin of ${viaName}` : `you are assigned to the group ${viaName}`;
}

function inDays(n: number): string {
  return n === 0 ? 'today' : n === 1 ? 'tomorrow' : `in ${n} days`;
}

/** One person's reminder: their assets due, grouped by why they get them, and how to stop them. */
export function reminderMail(
  person: { name: string; userId: string; tenantName: string },
  lines: ReminderLine[],
  today: Day,
  links: MailLinks,
): { subject: string; text: string } {
  const first = lines[0]!;
  const subject =
    lines.length === 1
      ? `Renewal reminder: ${first.identifier} renews on ${formatDay(first.renewalOn)}`
      : `Renewal reminder: ${lines.length} subscriptions renew within 4 weeks`;
  const out: string[] = [
    `Hello ${person.name},`,
    '',
    lines.length === 1
      ? 'This subscription renews automatically for another term unless its deactivation is requested' +
        ' before the renewal date:'
      : 'These subscriptions renew automatically for another term unless their deactivation is requested' +
        ' before the renewal date:',
  ];
  const reasons: string[] = [];
  let listed = 0;
  let section = '';
  for (const l of lines) {
    const key = `${l.via}:${l.viaName}`;
    if (key !== section) {
      section = key;
      reasons.push(reasonText(l.via, l.viaName));
      if (listed < MAIL_LIST_LIMIT)
        out.push(
          '',
          l.via === 0 ? `As a company admin of ${l.viaName}:` : `As a person assigned to the group ${l.viaName}:`,
        );
    }
    if (listed >= MAIL_LIST_LIMIT) continue;
    listed++;
    const where = [l.via === 0 && l.customer !== l.viaName ? l.customer : '', l.groupPath].filter(Boolean).join(', ');
    const plan = `${PLAN_LABELS[l.plan].toLowerCase()} plan`;
    const renews = `renews on ${formatDay(l.renewalOn)} (${inDays(daysBetween(today, l.renewalOn))})`;
    out.push(
      `- ${l.identifier}${l.name ? ` (${l.name})` : ''}${where ? `, ${where}` : ''}: ${plan}, ${renews}`,
      `  ${links.baseUrl}/assets/${l.assetId}`,
    );
  }
  if (lines.length > listed)
    out.push(
      '',
      `…and ${lines.length - listed} more. The asset list shows them all: ${links.baseUrl}/assets?tab=active`,
    );
  out.push(
    '',
    'Nothing to do if they should renew. To stop one, open it and choose "Request deactivation";' +
      ' it then ends at the end of its current term.',
    '',
    `Why you get this mail: ${[...new Set(reasons)].join(', and ')}.` +
      ` ${person.tenantName} sends one reminder a week during the 4 weeks before a renewal.`,
    '',
    `Stop renewal reminders: ${unsubscribeUrl(links, person.userId, 'renewal_reminders')}`,
    `Or choose which mail you get in your settings: ${links.baseUrl}/settings`,
  );
  return { subject, text: out.join('\n') + '\n' };
}
