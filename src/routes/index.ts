import type { Express } from 'express';
import type { AppContext } from '../context.js';
import { actorFromSession } from '../middleware/auth.js';
import { adminCustomerRoutes } from './admin-customers.js';
import { authRoutes } from './auth.js';
import { customerUserRoutes } from './customer-users.js';
import { homeRoutes } from './home.js';
import { passwordRoutes } from './password.js';
import { settingsRoutes } from './settings.js';
import { adminMailRoutes } from './admin-mail.js';
import { assetListRoutes } from './assets.js';
import { assetActionRoutes } from './asset-actions.js';
import { adminJobRoutes } from './admin-jobs.js';
import { unsubscribeRoutes } from './unsubscribe.js';
import { groupRoutes } from './groups.js';
import { adminApiKeyRoutes } from './admin-api-keys.js';
import { membershipRoutes } from './memberships.js';
import { ticketRoutes } from './tickets.js';
import { callRecordRoutes } from './call-records.js';
import { tenantSettingsRoutes } from './tenant-settings.js';
import { partnerRoutes } from './partners.js';
import { adminImportRoutes } from './admin-imports.js';
import { billingRoutes } from './billing.js';

/** Every router of the app, in one list so the authorization matrix test sees them all. */
export function mountRoutes(app: Express, ctx: AppContext): void {
  app.use(actorFromSession(ctx));
  app.use(authRoutes(ctx));
  app.use(homeRoutes(ctx));
  app.use(passwordRoutes(ctx));
  app.use(settingsRoutes(ctx));
  app.use(membershipRoutes(ctx));
  app.use(adminMailRoutes(ctx));
  app.use(adminJobRoutes(ctx));
  app.use(unsubscribeRoutes(ctx));
  app.use(adminCustomerRoutes(ctx));
  app.use(customerUserRoutes(ctx));
  app.use(assetListRoutes(ctx));
  app.use(assetActionRoutes(ctx));
  app.use(groupRoutes(ctx));
  app.use(adminApiKeyRoutes(ctx));
  app.use(ticketRoutes(ctx));
  app.use(callRecordRoutes(ctx));
  app.use(tenantSettingsRoutes(ctx));
  app.use(partnerRoutes(ctx));
  app.use(adminImportRoutes(ctx));
  app.use(billingRoutes(ctx));
}
