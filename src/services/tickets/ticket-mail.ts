import type { Trx } from '../../db/index.js';
import { enqueueMail, type MailLinks, unsubscribeHeaders, unsubscribeUrl } from '../mail/index.js';
import { type Actor, can, scopeTickets } from '../access/index.js';
import { loadActor } from '../people/index.js';
import { TICKET_STATUS_LABELS, type TicketStatus } from './rules.js';
import type { TicketRow } from './ticket-page.js';
import { english, isLocale, type Locale, recipientLocale, translator, type Translator } from '../platform/index.js';

/** The mail of a staff answer: to the opener and the followers who still want it, never to its writer. */

type Recipient = { id: string; email: string; name: string; locale: Locale };

/**
 * Who hears of a staff answer: the opener and the followers, while they are active, have not turned
 * ticket mail off, and still reach the ticket through one of their roles in the tenant (a follower
 * moved to another customer or group no longer does); never the staff member who wrote it.
 */
async function recipientsOf(trx: Trx, actor: Actor, ticket: TicketRow): Promise<Recipient[]> {
  const { rows } = await trx.raw<{ rows: { id: string; membershipId: string; locale: string }[] }>(
    `select u.id, m.id as "membershipId", ${recipientLocale('u')} as locale
       from users u join memberships m on m.tenant_id = :tenant and m.user_id = u.id
      where u.status = 'active' and u.id <> :actor
        and (u.id = :opener
             or u.id in (select f.user_id from ticket_followers f
                          where f.tenant_id = :tenant and f.ticket_id = :ticket))
        and not exists (select 1 from notification_settings s
                         where s.user_id = u.id and s.kind = 'ticket_updates' and not s.enabled)
      order by u.email, m.created_at`,
    {
      actor: actor.userId,
      opener: ticket.opened_by ?? '00000000-0000-0000-0000-000000000000',
      tenant: ticket.tenant_id,
      ticket: ticket.id,
    },
  );
  const recipients = new Map<string, Recipient>();
  for (const r of rows) {
    if (recipients.has(r.id)) continue;
    // the person in this role as the ticket's page would see them: the same policy, the same scope
    const member = await loadActor(trx, r.id, r.membershipId);
    if (!member || !can(member, 'ticket.view')) continue;
    if (await scopeTickets(trx, member).where('t.id', ticket.id).first('t.id'))
      recipients.set(r.id, {
        id: r.id,
        email: member.email,
        name: member.name,
        locale: isLocale(r.locale) ? r.locale : 'en',
      });
  }
  return [...recipients.values()];
}

export function ticketMail(
  ticket: { id: string; number: string; subject: string; status: TicketStatus },
  change: { body: string | null; statusChanged: boolean; author: string; tenantName: string },
  person: Omit<Recipient, 'locale'>,
  links: MailLinks,
  tr: Translator = english,
): { subject: string; text: string } {
  const status = tr.t(TICKET_STATUS_LABELS[ticket.status]);
  const what = change.body
    ? change.statusChanged
      ? tr.t('New reply, now {status}', { status })
      : tr.t('New reply')
    : tr.t('Status changed to {status}', { status });
  const about = { author: change.author, provider: change.tenantName, number: ticket.number, subject: ticket.subject };
  const lines = [
    tr.t('Hello {name},', { name: person.name }),
    '',
    change.body
      ? tr.t('{author} of {provider} replied to ticket #{number} "{subject}":', about)
      : tr.t('{author} of {provider} changed the status of ticket #{number} "{subject}" to {status}.', {
          ...about,
          status,
        }),
  ];
  if (change.body) lines.push('', ...change.body.split('\n').map((l) => `> ${l}`));
  if (change.body && change.statusChanged) lines.push('', tr.t('The ticket is now: {status}.', { status }));
  lines.push(
    '',
    tr.t('See the ticket and answer: {url}', { url: `${links.baseUrl}/tickets/${ticket.id}` }),
    '',
    tr.t('You get this mail because you opened or follow this ticket. To stop ticket mail: {url}', {
      url: unsubscribeUrl(links, person.id, 'ticket_updates'),
    }),
  );
  return {
    subject: tr.t('[Ticket #{number}] {what}: {subject}', { number: ticket.number, what, subject: ticket.subject }),
    text: lines.join('\n'),
  };
}

/** Mails a staff answer to the ticket's recipients through the outbox; returns how many it queued. */
export async function mailTicketUpdate(
  trx: Trx,
  actor: Actor,
  ticket: TicketRow,
  change: { body: string | null; statusChanged: boolean },
  links: MailLinks,
): Promise<number> {
  const people = await recipientsOf(trx, actor, ticket);
  const author = actor.name;
  for (const person of people) {
    const mail = ticketMail(
      { ...ticket, number: String(ticket.number) },
      { ...change, author, tenantName: actor.tenantName },
      person,
      links,
      translator(person.locale),
    );
    await enqueueMail(trx, {
      tenantId: ticket.tenant_id,
      kind: 'ticket_update',
      to: person.email,
      userId: person.id,
      subject: mail.subject,
      text: mail.text,
      headers: unsubscribeHeaders(links, person.id, 'ticket_updates'),
    });
  }
  return people.length;
}
