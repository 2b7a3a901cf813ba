import type { Express } from 'express';
import type { AppContext } from '../context.js';
import type { ApiModule } from '../web/api.js';
import { actorFromSession } from '../web/auth.js';
import { loginRoutes } from './account/login.js';
import { passwordRoutes } from './account/password.js';
import { settingsRoutes } from './account/settings.js';
import { twoFactorSettingsRoutes } from './account/settings/two-factor.js';
import { membershipRoutes } from './account/membership.js';
import { homeRoutes } from './home.js';
import { unsubscribeRoutes } from './unsubscribe.js';
import { requestActivationRoutes } from './assets/request-activation.js';
import { assetRoutes } from './assets/index.js';
import { bulkAssetRoutes } from './assets/bulk.js';
import { callRecordRoutes } from './assets/call-records.js';
import { groupRoutes } from './groups.js';
import { ticketRoutes } from './tickets.js';
import { userRoutes } from './users.js';
import { adminCustomerUserRoutes } from './admin/customers/users.js';
import { viewAsRoutes } from './admin/customers/view-as.js';
import { adminUserTwoFactorRoutes } from './admin/customers/users/two-factor.js';
import { activationRoutes } from './account/activation.js';
import { siteRoutes } from './sites.js';
import { adminSiteRoutes } from './admin/sites.js';
import { portalAccessRoutes } from './admin/customers/portal-access.js';
import { loginLinkRoutes } from './account/link.js';
import { billingRoutes } from './billing/index.js';
import { billingSummaryRoutes } from './billing/summaries.js';
import { invoiceRoutes } from './billing/invoices.js';
import { adminRequestRoutes } from './admin/requests.js';
import { adminTicketRoutes } from './admin/tickets.js';
import { partnerCustomerRoutes } from './partner/customers/index.js';
import { partnerUsageRoutes } from './partner/customers/usage.js';
import { usageRoutes } from './usage.js';
import { adminCustomerRoutes } from './admin/customers/index.js';
import { adminCustomerAssetRoutes } from './admin/customers/assets.js';
import { adminBillingRoutes } from './admin/customers/billing/index.js';
import { adminContactRoutes } from './admin/customers/billing/contacts.js';
import { adminSummaryRoutes } from './admin/customers/billing/summaries.js';
import { adminInvoiceRoutes } from './admin/customers/billing/invoices.js';
import { adminPartnerRoutes } from './admin/partners.js';
import { customerProductRoutes } from './admin/customers/products.js';
import { adminMailRoutes } from './admin/mail.js';
import { adminJobRoutes } from './admin/jobs.js';
import { adminAuditRoutes } from './admin/audit.js';
import { operatorJobRoutes } from './operator/jobs.js';
import { operatorMailRoutes } from './operator/mail.js';
import { operatorTenantRoutes } from './operator/tenants.js';
import { adminApiKeyRoutes } from './admin/api-keys.js';
import { adminImportRoutes } from './admin/imports.js';
import { tenantSettingsRoutes } from './admin/settings.js';
import { helpRoutes } from './help.js';
import { keyApi } from './api/key.js';
import { locationsApi } from './api/locations.js';
import { usageRecordsApi } from './api/usage-records.js';
import { serviceVisitsApi } from './api/service-visits.js';
import { invoicesApi } from './api/invoices.js';

/** Every page router of the app, in one list (the authorization matrix test walks what they mount). */
const PAGE_ROUTES = [
  loginRoutes,
  passwordRoutes,
  settingsRoutes,
  twoFactorSettingsRoutes,
  membershipRoutes,
  homeRoutes,
  unsubscribeRoutes,
  // before assetRoutes: /assets/:id would take "request-activation" for an id
  requestActivationRoutes,
  bulkAssetRoutes,
  assetRoutes,
  callRecordRoutes,
  groupRoutes,
  ticketRoutes,
  userRoutes,
  adminCustomerUserRoutes,
  viewAsRoutes,
  adminUserTwoFactorRoutes,
  activationRoutes,
  siteRoutes,
  adminSiteRoutes,
  portalAccessRoutes,
  loginLinkRoutes,
  billingRoutes,
  billingSummaryRoutes,
  invoiceRoutes,
  adminRequestRoutes,
  adminTicketRoutes,
  partnerCustomerRoutes,
  partnerUsageRoutes,
  usageRoutes,
  adminCustomerRoutes,
  adminCustomerAssetRoutes,
  adminBillingRoutes,
  adminContactRoutes,
  adminSummaryRoutes,
  adminInvoiceRoutes,
  adminPartnerRoutes,
  customerProductRoutes,
  adminMailRoutes,
  adminJobRoutes,
  adminAuditRoutes,
  operatorJobRoutes,
  operatorMailRoutes,
  operatorTenantRoutes,
  adminApiKeyRoutes,
  adminImportRoutes,
  tenantSettingsRoutes,
  helpRoutes,
];

/** Every module of the integration API under /api/v1; /api/v1/openapi.json is built from them. */
export const API_ROUTES: ApiModule[] = [keyApi, locationsApi, usageRecordsApi, serviceVisitsApi, invoicesApi];

export function mountRoutes(app: Express, ctx: AppContext): void {
  app.use(actorFromSession(ctx));
  for (const routes of PAGE_ROUTES) app.use(routes(ctx));
}
