import type { Trx } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, scopeGroups } from '../access/index.js';

/** One group as the groups modules read and lock it: found in the actor's reach, with its customer. */

export type GroupRow = {
  id: string;
  tenant_id: string;
  customer_id: string;
  parent_id: string | null;
  name: string;
  path: string;
  reference: string | null;
  enabled: boolean;
  customer_title: string;
  map_enabled: boolean;
};

const GROUP_COLUMNS = [
  'g.id',
  'g.tenant_id',
  'g.customer_id',
  'g.parent_id',
  'g.name',
  'g.path',
  'g.reference',
  'g.enabled',
  'c.title as customer_title',
  'c.map_enabled',
];

/** A group in the actor's reach, with its customer; 404 otherwise (ids that are not uuids included). */
export async function findGroupInScope(
  trx: Trx,
  actor: Actor,
  id: string,
  lock?: 'update' | 'share',
): Promise<GroupRow> {
  if (!isUuid(id)) throw new NotFoundError();
  const q = scopeGroups(trx, actor, 'g')
    .join('customers as c', function () {
      this.on('c.tenant_id', 'g.tenant_id').andOn('c.id', 'g.customer_id');
    })
    .where('g.id', id)
    .first<GroupRow | undefined>(GROUP_COLUMNS);
  if (lock === 'update') q.forUpdate('g');
  if (lock === 'share') q.forShare('g');
  const group = await q;
  if (!group) throw new NotFoundError();
  return group;
}
