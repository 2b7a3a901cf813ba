import type { Db } from '../../db/index.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import { audit, issueToken } from '../platform/index.js';
import { type Actor, asActor, can } from '../access/index.js';
import { enqueueMail } from '../mail/index.js';
import {
  activationMail,
  type ActivationMethod,
  addPendingUser,
  type MailEnv,
  type NewCustomerUser,
  newUserProblems,
  type UserStatus,
  withUniqueEmail,
} from '../people/index.js';
import { isUuid } from '../customers/rules.js';
import { SHOWN_PERSON } from '../people/rules.js';

/** A partner's users (partner viewers), added and sent activation links by staff like customer users. */

/** A partner's user (a partner viewer) as the staff screens show them. */
export type PartnerUser = {
  id: string;
  name: string;
  email: string;
  status: UserStatus;
  membershipId: string;
  partnerId: string;
  partnerName: string;
  createdAt: Date;
};

/**
 * Adds a pending partner viewer to a partner, with the same activation choices as a customer user:
 * an emailed link, or a link returned for the admin to hand over. Tenant admins only.
 */
export async function createPartnerUser(
  db: Db,
  actor: Actor,
  partnerId: string,
  input: Omit<NewCustomerUser, 'role'>,
  env: MailEnv,
): Promise<{ user: PartnerUser; token: string | null; expiresAt: Date }> {
  if (!can(actor, 'partner.manage')) throw new ForbiddenError();
  if (!isUuid(partnerId)) throw new NotFoundError();
  const fields = newUserProblems(input);
  return withUniqueEmail(fields, () =>
    asActor(db, actor, async (trx) => {
      const partner = await trx('partners')
        .where({ tenant_id: actor.tenantId, id: partnerId })
        .first<{ id: string; name: string } | undefined>('id', 'name');
      if (!partner) throw new NotFoundError();
      const added = await addPendingUser(
        trx,
        actor,
        input,
        fields,
        { role: 'partner_viewer', partner_id: partner.id },
        partner.name,
        env,
      );
      const user: PartnerUser = { ...added.user, partnerId: partner.id, partnerName: partner.name };
      await audit(trx, actor, {
        entityType: 'user',
        entityId: user.id,
        action: 'user.created',
        after: {
          id: user.id,
          name: user.name,
          email: user.email,
          status: user.status,
          role: 'partner_viewer',
          partnerId: partner.id,
          partner: partner.name,
          activation: input.activation,
        },
      });
      return { user, token: added.token, expiresAt: added.expiresAt };
    }),
  );
}

/**
 * A new activation link for a pending partner viewer: mailed ('email') or returned to hand over
 * ('link'), as for customer users; any earlier link stops working at once. Tenant admins only.
 */
export async function reissuePartnerActivation(
  db: Db,
  actor: Actor,
  partnerId: string,
  userId: string,
  activation: ActivationMethod,
  env: MailEnv,
): Promise<{ user: PartnerUser; token: string | null; expiresAt: Date }> {
  if (!can(actor, 'partner.manage')) throw new ForbiddenError();
  if (!isUuid(partnerId) || !isUuid(userId)) throw new NotFoundError();
  return asActor(db, actor, async (trx) => {
    const user = await trx('memberships as m')
      .join('users as u', 'u.id', 'm.user_id')
      .join('partners as p', function () {
        this.on('p.tenant_id', 'm.tenant_id').andOn('p.id', 'm.partner_id');
      })
      .where({ 'm.tenant_id': actor.tenantId, 'm.partner_id': partnerId, 'm.role': 'partner_viewer', 'u.id': userId })
      .forUpdate('u')
      .first<PartnerUser | undefined>(
        'u.id',
        trx.raw(`${SHOWN_PERSON.name} as name`),
        trx.raw(`${SHOWN_PERSON.email} as email`),
        trx.raw(`${SHOWN_PERSON.status} as status`),
        'm.id as membershipId',
        'm.partner_id as partnerId',
        'p.name as partnerName',
        trx.raw(`${SHOWN_PERSON.createdAt} as "createdAt"`),
      );
    if (!user) throw new NotFoundError();
    if (user.status !== 'pending')
      throw new ConflictError(
        `${user.name} has already activated their account, so there is no activation link to send.`,
      );
    const { token, expiresAt } = await issueToken(trx, {
      userId: user.id,
      tenantId: actor.tenantId,
      purpose: 'activation',
      now: env.now,
      membershipId: user.membershipId,
    });
    if (activation === 'email')
      await enqueueMail(trx, activationMail(actor, { ...user, customerTitle: user.partnerName }, token, env, true));
    await audit(trx, actor, {
      entityType: 'user',
      entityId: user.id,
      action: activation === 'email' ? 'user.activation_sent' : 'user.activation_link_shown',
      after: { email: user.email },
    });
    return { user, token: activation === 'link' ? token : null, expiresAt };
  });
}
