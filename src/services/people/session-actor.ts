import type { Db } from '../../db/index.js';
import { runStoredRead, storedRead } from '../../db/routines.js';
import { type Actor, can, CUSTOMER_ROLES, type Principal } from '../access/index.js';
import { operatorFromRow } from './operators.js';
import { actorFromRow, MUST_SET_UP_TWO_FACTOR_SQL, type ActorRow } from './sign-in.js';
import type { Locale } from '../platform/i18n.js';

/** What a stored session says of whom it acts as (the fields express-session keeps in `sess`). */
type StoredSession = {
  userId?: string;
  membershipId?: string;
  operator?: boolean;
  /** "view as": the customer user a staff member views as, read only, from when until when (ms) */
  viewAs?: ViewAs;
  [key: string]: unknown;
};

/** What a session keeps of a "view as": whom, of which customer, from when until when (ms). */
export type ViewAs = {
  userId: string;
  membershipId: string;
  customerId: string;
  startedAt: number;
  endsAt: number;
  /** the staff member's name when the view started: the person's session list names who is viewing */
  byName: string;
};

export type LoadedSession = {
  sess: StoredSession;
  /**
   * whom the session acts as: null when it no longer counts (revoked, its user, membership, tenant or
   * login link gone or disabled, no longer an operator); undefined when it names nobody (signed out)
   */
  principal: Principal | null | undefined;
};

const UUID = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'";
const NUMBER = "'^-?[0-9]+(\\.[0-9]+)?$'";
const ms = (field: string) => `case when s.sess->>'${field}' ~ ${NUMBER} then (s.sess->>'${field}')::float8 end`;
const viewAsField = (field: string) => `s.sess->'viewAs'->>'${field}'`;
const viewAsNumber = (field: string) =>
  `case when ${viewAsField(field)} ~ ${NUMBER} then (${viewAsField(field)})::float8 end`;
const viewAsMs = (field: string) =>
  `timestamptz 'epoch' + interval '1 millisecond' * coalesce(${viewAsNumber(field)}, 0)`;
const viewAsId = (field: string) => `case when ${viewAsField(field)} ~* ${UUID} then (${viewAsField(field)})::uuid end`;
const CUSTOMER_ROLE_LIST = CUSTOMER_ROLES.map((r) => `'${r}'`).join(', ');

/**
 * The session row and its actor in ONE statement, with every rule loadActor and loadOperator apply when
 * handed a session: the user active and the session issued after their sessions_valid_after; for a
 * membership, it and its tenant not disabled and the session issued after its sessions_valid_after, and a
 * login link's session bound to its link while that is live (one without a link id ends); for an operator,
 * the operators row. `issuedAt` falls back to `createdAt`, then to the epoch, as the session's JS does.
 * Each lateral ends in `offset 0`, a fence the planner does not pull up: without it the whole statement
 * was one join problem of a dozen tables, planned in 7-12 ms on every request (under load) and run from
 * the memberships side, reading every member of the deployment (5-7 ms); fenced, each lateral is planned
 * on its own (1.7 ms in all, idle) and runs once, from the one session row, by index (0.6 ms). Even so,
 * planning it cost 7 ms of CPU per request under load: it runs as a stored read (db/routines.ts), planned
 * once per connection.
 */
const SESSION_AND_ACTOR = storedRead(
  'portico_session_actor',
  ['text', 'float8', 'timestamptz'],
  `
select s.sess,
  a.email, a.name, a.time_zone, a.locale, a.tenant_id, a.tenant_name, a.role, a.customer_id, a.partner_id,
  a.customer_title, a.partner_name, a.membership_count, a.must_change_password, a.must_set_up_two_factor,
  op.email as op_email, op.name as op_name, op.time_zone as op_time_zone, op.locale as op_locale,
  va.email as va_email, va.name as va_name, va.time_zone as va_time_zone, va.tenant_id as va_tenant_id,
  va.tenant_name as va_tenant_name, va.role as va_role, va.customer_id as va_customer_id,
  va.customer_title as va_customer_title
from session s
cross join lateral (
  select
    case when s.sess->>'membershipId' ~* ${UUID} then (s.sess->>'membershipId')::uuid end as membership_id,
    coalesce(s.sess->>'membershipId', '') = '' and s.sess->>'operator' = 'true' as operator,
    timestamptz 'epoch' + interval '1 millisecond' * coalesce(${ms('issuedAt')}, ${ms('createdAt')}, 0) as issued_at,
    s.sess->>'viaLink' = 'true' as via_link,
    case when s.sess->>'linkId' ~* ${UUID} then (s.sess->>'linkId')::uuid end as link_id,
    ${viewAsId('userId')} as va_user_id,
    ${viewAsId('membershipId')} as va_membership_id,
    ${viewAsMs('startedAt')} as va_started_at,
    ${viewAsMs('endsAt')} as va_ends_at
) k
left join lateral (
  select u.email, u.name, u.time_zone, u.locale, m.tenant_id, t.name as tenant_name, m.role, m.customer_id, m.partner_id,
    c.title as customer_title, p.name as partner_name,
    (select count(*)::int from memberships o join tenants ot on ot.id = o.tenant_id
      where o.user_id = u.id and o.disabled_at is null and o.invited_at is null
        and ot.disabled_at is null) as membership_count,
    u.must_change_password,
    ${MUST_SET_UP_TWO_FACTOR_SQL} as must_set_up_two_factor
  from memberships m
  join users u on u.id = m.user_id
  join tenants t on t.id = m.tenant_id
  left join customers c on c.tenant_id = m.tenant_id and c.id = m.customer_id
  left join partners p on p.tenant_id = m.tenant_id and p.id = m.partner_id
  where m.id = k.membership_id and u.id = s.user_id and u.status = 'active'
    and m.disabled_at is null and t.disabled_at is null
    and (u.sessions_valid_after is null or u.sessions_valid_after <= k.issued_at)
    and (m.sessions_valid_after is null or m.sessions_valid_after <= k.issued_at)
    and (k.via_link is not true or exists (
      select 1 from user_tokens l
      where l.user_id = u.id and l.id = k.link_id and l.purpose = 'login_link'
        and l.revoked_at is null and l.expires_at > $3))
  offset 0
) a on true
left join lateral (
  select u.email, u.name, u.time_zone, u.locale
  from operators o join users u on u.id = o.user_id
  where k.operator and o.user_id = s.user_id and u.status = 'active'
    and (u.sessions_valid_after is null or u.sessions_valid_after <= k.issued_at)
  offset 0
) op on true
left join lateral (
  select u.email, u.name, u.time_zone, m.tenant_id, t.name as tenant_name, m.role, m.customer_id,
    c.title as customer_title
  from memberships m
  join users u on u.id = m.user_id
  join tenants t on t.id = m.tenant_id
  join customers c on c.tenant_id = m.tenant_id and c.id = m.customer_id
  where m.id = k.va_membership_id and u.id = k.va_user_id and m.tenant_id = a.tenant_id
    and m.role in (${CUSTOMER_ROLE_LIST}) and u.status = 'active' and m.disabled_at is null
    and m.invited_at is null and t.disabled_at is null and k.va_ends_at > $3
    and (u.sessions_valid_after is null or u.sessions_valid_after <= k.va_started_at)
    and (m.sessions_valid_after is null or m.sessions_valid_after <= k.va_started_at)
  offset 0
) va on a.email is not null
where s.sid = $1 and s.expire >= to_timestamp($2)`,
);

type Row = Partial<ActorRow> & {
  sess: StoredSession | string;
  email: string | null;
  op_email: string | null;
  op_name: string | null;
  op_time_zone: string | null;
  op_locale: Locale | null;
  va_email: string | null;
  va_name: string;
  va_time_zone: string;
  va_tenant_id: string;
  va_tenant_name: string;
  va_role: Actor['role'];
  va_customer_id: string;
  va_customer_title: string;
};

/**
 * A stored session and whom it acts as, in one round trip instead of two (the session store's read, then
 * the actor's): the session middleware reads it, and every request's actor comes from it. Revocation is
 * as immediate as with loadActor: the rules are read from the database on every request, on every instance.
 * `expiresAfter`: a row that expires before it is not found (the session store's own rule, in seconds);
 * `now`: the clock a login link's expiry is read against.
 */
export async function loadSessionWithActor(
  db: Db,
  sid: string,
  at: { expiresAfter: number; now: Date },
): Promise<LoadedSession | null> {
  const [row] = await runStoredRead<Row>(db, SESSION_AND_ACTOR, [sid, at.expiresAfter, at.now]);
  if (!row) return null;
  const sess = typeof row.sess === 'string' ? (JSON.parse(row.sess) as StoredSession) : row.sess;
  const { userId, membershipId, operator } = sess;
  if (!userId || (!membershipId && !operator)) return { sess, principal: undefined };
  if (membershipId) {
    if (!row.email) return { sess, principal: null };
    const actor = actorFromRow(userId, membershipId, row as ActorRow);
    return { sess, principal: sess.viewAs ? viewingAs(actor, sess.viewAs, row) : actor };
  }
  const principal = row.op_email
    ? operatorFromRow(userId, {
        email: row.op_email,
        name: row.op_name!,
        time_zone: row.op_time_zone!,
        locale: row.op_locale,
      })
    : null;
  return { sess, principal };
}

/**
 * A staff member's session that views as a customer user: that person's actor, read only, naming the staff
 * member; or, when the view no longer counts (30 minutes passed, the person's sessions or membership ended,
 * they moved to another tenant or role, the staff member lost the right), the staff member's own actor
 * marked so that this request ends the view.
 */
function viewingAs(staff: Actor, viewAs: ViewAs, row: Row): Actor {
  if (!row.va_email || !can(staff, 'customer_user.view_as')) {
    const { userId, membershipId, customerId, startedAt } = viewAs;
    return { ...staff, viewAsLapsed: { userId, membershipId, customerId, startedAt } };
  }
  return {
    userId: viewAs.userId,
    membershipId: viewAs.membershipId,
    email: row.va_email,
    name: row.va_name,
    timeZone: row.va_time_zone,
    // the page is read by the staff member: in their language
    locale: staff.locale,
    tenantId: row.va_tenant_id,
    tenantName: row.va_tenant_name,
    role: row.va_role,
    customerId: row.va_customer_id,
    partnerId: null,
    placeName: row.va_customer_title,
    // the person's other roles are theirs to switch between, not the viewer's
    membershipCount: 1,
    viewedBy: { staff, startedAt: viewAs.startedAt, endsAt: viewAs.endsAt },
  };
}
