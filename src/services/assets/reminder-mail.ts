import { formatDay } from './rules.js';
import { type MailLinks, unsubscribeUrl } from '../mail/index.js';
import { english, type Translator } from '../platform/i18n.js';
import { daysBetween, type Day } from './subscription-rules.js';
import type { ReminderLine } from './renewal-reminders.js';

/** The renewal reminder a person gets: their assets due, grouped by why they get them, and how to stop it. */

/** a mail lists at most this many assets and points to the asset list for the rest */
export const MAIL_LIST_LIMIT = 200;

function reasonText(tr: Translator, via: 0 | 1, viaName: string): string {
  return via === 0
    ? tr.t('you are a company admin of {name}', { name: viaName })
    : tr.t('you are assigned to the group {name}', { name: viaName });
}

/** One person's reminder in their language (`tr`): their assets due, grouped by why they get them, how to stop it. */
export function reminderMail(
  person: { name: string; userId: string; tenantName: string },
  lines: ReminderLine[],
  today: Day,
  links: MailLinks,
  tr: Translator = english,
): { subject: string; text: string } {
  const first = lines[0]!;
  const day = (d: Day) => formatDay(d, tr.locale);
  const subject =
    lines.length === 1
      ? tr.t('Renewal reminder: {identifier} renews on {day}', {
          identifier: first.identifier,
          day: day(first.renewalOn),
        })
      : tr.t(
          'Renewal reminder: {count, plural, one {# subscription renews} other {# subscriptions renew}} within 4 weeks',
          {
            count: lines.length,
          },
        );
  const out: string[] = [
    tr.t('Hello {name},', { name: person.name }),
    '',
    lines.length === 1
      ? tr.t(
          'This subscription renews automatically for another term unless its deactivation is requested before the renewal date:',
        )
      : tr.t(
          'These subscriptions renew automatically for another term unless their deactivation is requested before the renewal date:',
        ),
  ];
  const reasons: string[] = [];
  let listed = 0;
  let section = '';
  for (const l of lines) {
    const key = `${l.via}:${l.viaName}`;
    if (key !== section) {
      section = key;
      reasons.push(reasonText(tr, l.via, l.viaName));
      if (listed < MAIL_LIST_LIMIT)
        out.push(
          '',
          l.via === 0
            ? tr.t('As a company admin of {name}:', { name: l.viaName })
            : tr.t('As a person assigned to the group {name}:', { name: l.viaName }),
        );
    }
    if (listed >= MAIL_LIST_LIMIT) continue;
    listed++;
    const where = [l.via === 0 && l.customer !== l.viaName ? l.customer : '', l.groupPath].filter(Boolean).join(', ');
    const details = tr.t(
      '{plan, select, monthly {monthly plan} quarterly {quarterly plan} other {yearly plan}}, renews on {day} ({days, plural, =0 {today} =1 {tomorrow} other {in # days}})',
      { plan: l.plan, day: day(l.renewalOn), days: daysBetween(today, l.renewalOn) },
    );
    out.push(
      `- ${l.identifier}${l.name ? ` (${l.name})` : ''}${where ? `, ${where}` : ''}: ${details}`,
      `  ${links.baseUrl}/assets/${l.assetId}`,
    );
  }
  if (lines.length > listed)
    out.push(
      '',
      tr.t('…and {count} more. The asset list shows them all: {url}', {
        count: lines.length - listed,
        url: `${links.baseUrl}/assets?tab=active`,
      }),
    );
  out.push(
    '',
    tr.t(
      'Nothing to do if they should renew. To stop one, open it and choose "Request deactivation"; it then ends at the end of its current term.',
    ),
    '',
    tr.t(
      'Why you get this mail: {reasons}. {provider} sends one reminder a week during the 4 weeks before a renewal.',
      {
        reasons: [...new Set(reasons)].join(tr.t(', and ')),
        provider: person.tenantName,
      },
    ),
    '',
    tr.t('Stop renewal reminders: {url}', { url: unsubscribeUrl(links, person.userId, 'renewal_reminders') }),
    tr.t('Or choose which mail you get in your settings: {url}', { url: `${links.baseUrl}/settings` }),
  );
  return { subject, text: out.join('\n') + '\n' };
}
