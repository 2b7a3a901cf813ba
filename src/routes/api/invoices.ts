import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { decodeInvoiceCursor, INVOICE_STATUSES, listInvoicesForApi } from '../../services/billing/index.js';
import { apiInput, operation, withClient, type ApiModule } from '../../web/api.js';

/**
 * GET /api/v1/invoices: a billing system reads the tenant's invoices, by status and time of change,
 * a keyset page at a time.
 */

const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 50;

/** A parameter given at most once: a repeated one is refused rather than half read. */
const once = (name: string) => z.string({ error: `Give ${name} once.` }).optional();

// anything wrong answers 400 with what to send instead (the first parameter wrong, in this order)
const InvoicesQuery = z.object({
  status: once('status').pipe(
    z.enum(INVOICE_STATUSES, { error: `status is one of ${INVOICE_STATUSES.join(', ')}.` }).optional(),
  ),
  updated_since: once('updated_since')
    .refine(
      (v) => v === undefined || (/^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v))),
      'updated_since is an ISO 8601 date and time, e.g. 2026-11-01T00:00:00Z.',
    )
    .transform((v) => (v === undefined ? null : new Date(v))),
  after: once('after').transform((v, ctx) => {
    const cursor = v === undefined ? null : decodeInvoiceCursor(v);
    if (v !== undefined && !cursor) ctx.addIssue('after is the next_after value of a previous page, unchanged.');
    return cursor;
  }),
  limit: once('limit')
    .transform((v) => (v === undefined ? DEFAULT_LIMIT : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= MAX_LIMIT, `limit is a whole number from 1 to ${MAX_LIMIT}.`),
});

const day = { type: 'string', format: 'date' };
const time = { type: 'string', format: 'date-time' };
const nullableTime = { type: ['string', 'null'], format: 'date-time' };

export const invoicesApi: ApiModule = {
  // a getter: api.ts imports this module, so its `operation` is ready only once both have loaded
  get paths() {
    return {
      '/invoices': {
        get: operation({
          summary: 'Invoices, in the order they last changed',
          scope: 'invoices:read',
          description:
            "The tenant's invoices with their lines, oldest change first, a page at a time. " +
            "Money is in integer minor units of the invoice's currency (`total_minor: 1234` in GBP is £12.34). " +
            'To follow changes, keep the last `next_after` (or the last `updated_at` as `updated_since`) ' +
            'and ask again later: an invoice that changes (issued, paid, voided) comes again, at the end.',
          parameters: [
            {
              name: 'status',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: [...INVOICE_STATUSES] },
              description: 'Only invoices in this status',
            },
            {
              name: 'updated_since',
              in: 'query',
              required: false,
              schema: { ...time, pattern: '^\\d{4}-\\d{2}-\\d{2}T' },
              description: 'Only invoices changed at or after this time',
            },
            {
              name: 'after',
              in: 'query',
              required: false,
              schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 200 },
              description: 'The `next_after` of the previous page',
            },
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
            },
          ],
          responses: {
            '200': {
              description: 'A page of invoices',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['invoices', 'next_after'],
                    properties: {
                      invoices: { type: 'array', items: { $ref: '#/components/schemas/Invoice' } },
                      next_after: {
                        type: ['string', 'null'],
                        description: 'Pass as `after` for the next page; null on the last page',
                      },
                    },
                  },
                },
              },
            },
            '400': {
              description: 'A parameter is not valid',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
          },
        }),
      },
    };
  },
  schemas: {
    Invoice: {
      type: 'object',
      required: [
        'id',
        'number',
        'number_label',
        'status',
        'currency',
        'customer',
        'usage',
        'period_start',
        'period_end',
        'total_minor',
        'created_at',
        'updated_at',
        'lines',
      ],
      properties: {
        id: { type: 'string', format: 'uuid' },
        number: { type: 'integer', description: "The tenant's invoice number; numbers run without gaps" },
        number_label: { type: 'string', examples: ['INV-000042'] },
        status: { type: 'string', enum: [...INVOICE_STATUSES] },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        customer: {
          type: 'object',
          required: ['id', 'account_id', 'title'],
          properties: {
            id: { type: 'string', format: 'uuid' },
            account_id: { type: 'string' },
            title: { type: 'string' },
          },
        },
        usage: {
          type: 'object',
          required: ['granularity', 'product'],
          properties: {
            granularity: { type: 'string', enum: ['daily', 'monthly'] },
            product: { type: 'string', enum: ['all', 'voice', 'sms', 'video', 'messaging'] },
          },
        },
        period_start: day,
        period_end: day,
        total_minor: { type: 'integer' },
        created_at: time,
        updated_at: time,
        issued_at: nullableTime,
        paid_at: nullableTime,
        voided_at: nullableTime,
        lines: {
          type: 'array',
          items: {
            type: 'object',
            required: [
              'position',
              'description',
              'period_start',
              'period_end',
              'attempts',
              'connected',
              'billed_minutes',
              'amount_minor',
            ],
            properties: {
              position: { type: 'integer' },
              description: { type: 'string' },
              period_start: day,
              period_end: day,
              attempts: { type: 'integer' },
              connected: { type: 'integer' },
              billed_minutes: { type: 'integer' },
              amount_minor: { type: 'integer' },
            },
          },
        },
      },
    },
  },
  mount(router, ctx: AppContext) {
    router.get(
      '/invoices',
      withClient(async (req, res, client) => {
        const q = apiInput(InvoicesQuery, req.query);
        const { invoices, next } = await listInvoicesForApi(ctx.db, client.tenantId, {
          status: q.status ?? null,
          updatedSince: q.updated_since,
          after: q.after,
          limit: q.limit,
        });
        res.json({ invoices, next_after: next });
      }),
    );
  },
};
