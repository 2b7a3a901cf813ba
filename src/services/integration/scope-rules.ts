import { ForbiddenError } from '../../errors.js';
import { msg } from '../platform/i18n.js';

/**
 * What an API key may do. A tenant admin chooses a key's scopes when creating it; each API
 * operation names the scope it needs, and a key without it is refused with 403. Pure, so the API's
 * OpenAPI document can read the list while modules load.
 */
export const API_SCOPES = ['locations:write', 'usage:write', 'visits:write', 'invoices:read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const API_SCOPE_LABELS: Record<ApiScope, { label: string; hint: string }> = {
  'locations:write': { label: msg('Send device locations'), hint: 'POST /api/v1/locations' },
  'usage:write': { label: msg('Send usage records'), hint: 'POST /api/v1/usage-records' },
  'visits:write': { label: msg('Record service visits'), hint: 'POST /api/v1/service-visits' },
  'invoices:read': { label: msg('Read invoices'), hint: 'GET /api/v1/invoices' },
};

export function isApiScope(value: unknown): value is ApiScope {
  return (API_SCOPES as readonly unknown[]).includes(value);
}

/** Refuses (403) a key whose scopes lack `scope`. */
export function assertScope(key: { scopes: readonly ApiScope[] }, scope: ApiScope): void {
  if (!key.scopes.includes(scope))
    throw new ForbiddenError(
      `This API key may not do this: it needs the scope ${scope}. ` +
        'A tenant admin chooses what a key may do when creating it under API keys.',
    );
}
