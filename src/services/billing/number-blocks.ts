import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { checkNumberRange, type NumberRange, type NumberRangeForm } from './rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { findAccount, type AccountCustomer } from './accounts.js';
import { msg } from '../platform/index.js';

/** Number blocks: the tenant's range of internal numbers, and the blocks assigned from it to customers. */

export type NumberBlock = { id: number; first_number: number; last_number: number; assigned_at: Date };

export async function listNumberBlocks(trx: Trx, actor: Actor, customerId: string): Promise<NumberBlock[]> {
  return trx('number_blocks')
    .where({ tenant_id: actor.tenantId, customer_id: customerId })
    .whereNull('released_at')
    .orderBy('first_number')
    .select('id', 'first_number', 'last_number', 'assigned_at');
}

type RangeRow = { first_number: number; last_number: number; block_size: number };
const rangeOf = (r: RangeRow): NumberRange => ({
  firstNumber: BigInt(r.first_number),
  lastNumber: BigInt(r.last_number),
  blockSize: r.block_size,
});

export const NO_RANGE_MESSAGE = msg(
  'No number range is set up yet. A tenant admin sets the first number, the last number and the block size under Provider settings, Number range; then "+" assigns blocks.',
);

export async function getNumberRange(db: Db | Trx, actor: Actor): Promise<NumberRange | null> {
  const row = await asActor(db, actor, (trx) =>
    trx('number_ranges')
      .where({ tenant_id: actor.tenantId })
      .first<RangeRow | undefined>('first_number', 'last_number', 'block_size'),
  );
  return row ? rangeOf(row) : null;
}

/**
 * Sets the tenant's number range. Blocks already assigned keep their numbers, so a range that
 * would leave one of them outside is refused with the block named.
 */
export async function setNumberRange(db: Db, actor: Actor, form: NumberRangeForm): Promise<NumberRange> {
  authorize(actor, 'tenant_settings.manage');
  const { value, errors } = checkNumberRange(form);
  if (!value) throw new ValidationError(errors);
  return asActor(db, actor, async (trx) => {
    const before = await trx('number_ranges')
      .where({ tenant_id: actor.tenantId })
      .forUpdate()
      .first<RangeRow | undefined>('first_number', 'last_number', 'block_size');
    const outside = await trx('number_blocks as b')
      .join('customers as c', function () {
        this.on('c.tenant_id', 'b.tenant_id').andOn('c.id', 'b.customer_id');
      })
      .where('b.tenant_id', actor.tenantId)
      .whereNull('b.released_at')
      .where((w) =>
        w
          .where('b.first_number', '<', value.firstNumber.toString())
          .orWhere('b.last_number', '>', value.lastNumber.toString()),
      )
      .orderBy('b.first_number')
      .first<{ first_number: string; last_number: string; title: string } | undefined>(
        'b.first_number',
        'b.last_number',
        'c.title',
      );
    if (outside) {
      throw new ValidationError({
        firstNumber: msg(
          'The block {first}–{last} of {customer} would fall outside this range: release it first, or keep it inside.',
          { first: String(outside.first_number), last: String(outside.last_number), customer: outside.title },
        ),
      });
    }
    const row = {
      tenant_id: actor.tenantId,
      first_number: value.firstNumber.toString(),
      last_number: value.lastNumber.toString(),
      block_size: value.blockSize,
      updated_at: trx.fn.now(),
    };
    await trx('number_ranges').insert(row).onConflict('tenant_id').merge();
    await audit(trx, actor, {
      entityType: 'tenant',
      entityId: actor.tenantId,
      action: 'tenant.number_range_set',
      before: before ?? null,
      after: { first_number: row.first_number, last_number: row.last_number, block_size: row.block_size },
    });
    return value;
  });
}

/**
 * "+": the lowest free block of the range goes to the customer. The range row is locked first, so
 * two staff pressing "+" at once queue and get two different blocks (the unique index on assigned
 * blocks would refuse a duplicate even so). Refused with what to do when there is no range, or no
 * room left in it. A free block starts at the range's first number or just after an assigned one.
 */
export async function assignNumberBlock(
  db: Db,
  actor: Actor,
  customerId: string,
): Promise<{ block: NumberBlock; customer: AccountCustomer }> {
  authorize(actor, 'billing.manage');
  return asActor(db, actor, async (trx) => {
    const customer = await findAccount(trx, actor, customerId);
    const rangeRow = await trx('number_ranges')
      .where({ tenant_id: actor.tenantId })
      .forUpdate()
      .first<RangeRow | undefined>('first_number', 'last_number', 'block_size');
    if (!rangeRow) throw new ConflictError(NO_RANGE_MESSAGE);
    const { firstNumber, lastNumber, blockSize } = rangeOf(rangeRow);
    const size = BigInt(blockSize);
    const free = await trx.raw<{ rows: { start: number }[] }>(
      `
      select c.start from (
        select ?::bigint as start
        union all
        select b.last_number + 1 from number_blocks b where b.tenant_id = ? and b.released_at is null
      ) c
      where c.start >= ? and c.start + ? - 1 <= ?
        and not exists (
          select 1 from number_blocks o
          where o.tenant_id = ? and o.released_at is null
            and o.first_number <= c.start + ? - 1 and o.last_number >= c.start
        )
      order by c.start
      limit 1
      `,
      [
        firstNumber.toString(),
        actor.tenantId,
        firstNumber.toString(),
        size.toString(),
        lastNumber.toString(),
        actor.tenantId,
        size.toString(),
      ],
    );
    const start = free.rows[0]?.start;
    if (start === undefined) {
      // shown as it is by the staff billing tab (admin/customers/billing/index.eta, errors.blocks), which does
      // not translate yet: English until that template reads it through t()
      throw new ConflictError(
        `The number range ${firstNumber}–${lastNumber} is exhausted: every block of ${blockSize} numbers is` +
          ' assigned. Release a block, or widen the range under Provider settings.',
      );
    }
    const [block] = await trx('number_blocks')
      .insert({
        tenant_id: actor.tenantId,
        customer_id: customer.id,
        first_number: start,
        last_number: (BigInt(start) + size - 1n).toString(),
      })
      .returning<NumberBlock[]>(['id', 'first_number', 'last_number', 'assigned_at']);
    await audit(trx, actor, {
      entityType: 'number_block',
      entityId: String(block!.id),
      action: 'billing.number_block_assigned',
      customerId: customer.id,
      after: { first_number: block!.first_number, last_number: block!.last_number },
    });
    return { block: block!, customer };
  });
}

/** The customer's block goes back to the range: the next "+" may hand it out again. */
export async function releaseNumberBlock(
  db: Db,
  actor: Actor,
  customerId: string,
  blockId: string,
  now: Date,
): Promise<NumberBlock> {
  authorize(actor, 'billing.manage');
  return asActor(db, actor, async (trx) => {
    const block = await findBlock(trx, actor, customerId, blockId, true);
    await trx('number_blocks').where({ tenant_id: actor.tenantId, id: block.id }).update({ released_at: now });
    await audit(trx, actor, {
      entityType: 'number_block',
      entityId: String(block.id),
      action: 'billing.number_block_released',
      customerId,
      before: { first_number: block.first_number, last_number: block.last_number, released: false },
      after: { first_number: block.first_number, last_number: block.last_number, released: true },
    });
    return block;
  });
}

/** One assigned block of the customer, for the release confirmation. */
export async function getNumberBlock(
  db: Db,
  actor: Actor,
  customerId: string,
  blockId: string,
): Promise<{ block: NumberBlock; customer: AccountCustomer }> {
  authorize(actor, 'billing.manage');
  return asActor(db, actor, async (trx) => ({
    block: await findBlock(trx, actor, customerId, blockId),
    customer: await findAccount(trx, actor, customerId),
  }));
}

async function findBlock(
  trx: Trx,
  actor: Actor,
  customerId: string,
  blockId: string,
  lock = false,
): Promise<NumberBlock> {
  const customer = await findAccount(trx, actor, customerId);
  if (!/^\d{1,18}$/.test(blockId)) throw new NotFoundError();
  const q = trx('number_blocks')
    .where({ tenant_id: actor.tenantId, customer_id: customer.id, id: blockId })
    .whereNull('released_at')
    .first<NumberBlock | undefined>('id', 'first_number', 'last_number', 'assigned_at');
  if (lock) q.forUpdate();
  const block = await q;
  if (!block)
    throw new NotFoundError('That number block is not assigned to this customer (it may have been released already).');
  return block;
}
