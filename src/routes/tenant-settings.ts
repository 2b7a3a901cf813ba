import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { allow } from '../middleware/auth.js';
import { wantsFragment } from '../middleware/render.js';
import { HELP_LINK_TEXT, HELP_LINKS } from '../services/help-link-rules.js';
import { helpLinksFor, helpLinksForm, saveHelpLinks } from '../services/tenant-settings.js';
import { formText, orRerender } from './forms.js';

/** The Help page everyone reaches, and the provider's settings page: one section (and fragment) per concern. */

const HelpLinksBody = z.object(Object.fromEntries(HELP_LINKS.map((k) => [k, formText()])) as Record<(typeof HELP_LINKS)[number], ReturnType<typeof formText>>);

export function tenantSettingsRoutes(ctx: AppContext): Router {
  const router = Router();

  type HelpLinksState = { errors?: Record<string, string>; values?: Record<string, string | null>; saved?: boolean; status?: number };

  /** The whole page, or (for htmx) only the help links section. Later sections add their data here. */
  const renderSettings = async (req: Request, res: Response, help: HelpLinksState = {}) => {
    const values = help.values ?? (await helpLinksForm(ctx.db, req.actor!));
    res.renderPage(
      'admin/settings/index',
      { title: 'Provider settings', helpLinks: { values, errors: help.errors ?? {}, saved: !!help.saved, fields: HELP_LINKS.map((k) => ({ key: k, ...HELP_LINK_TEXT[k] })) } },
      { fragment: 'admin/settings/_help-links', status: help.status },
    );
  };

  router.get('/help', ...allow('help.view'), async (req, res) => {
    res.renderPage('help/index', { title: 'Help', links: await helpLinksFor(ctx.db, req.actor!) });
  });

  router.get('/admin/settings', ...allow('tenant_settings.manage'), (req, res) => renderSettings(req, res));

  router.post('/admin/settings/help-links', ...allow('tenant_settings.manage'), async (req, res) => {
    const form = HelpLinksBody.parse(req.body ?? {});
    await orRerender(async () => {
      await saveHelpLinks(ctx.db, req.actor!, form);
      if (wantsFragment(req)) return renderSettings(req, res, { saved: true });
      res.flash('success', 'The Help page links have been saved.');
      res.redirect(303, '/admin/settings#help-links');
    }, (errors, status) => renderSettings(req, res, { errors, values: form, status }));
  });

  return router;
}
