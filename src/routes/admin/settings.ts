import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { wantsFragment } from '../../web/render.js';
import { HELP_LINK_TEXT, HELP_LINKS, helpLinksForm, saveHelpLinks } from '../../services/tenants/index.js';
import {
  billingSettings,
  blocksInRange,
  getNumberRange,
  setBlockOverLimit,
  setNumberRange,
} from '../../services/billing/index.js';
import type { Actor } from '../../services/access/index.js';
import { setTwoFactorRequirement, twoFactorRequirement } from '../../services/people/index.js';
import { formCheckbox, formText, orRerender } from '../../web/forms.js';
import { msg, type Msg } from '../../services/platform/index.js';

/** The provider's settings page: one section (and fragment) per concern. */

const OverLimitBody = z.object({ blockOverLimit: formCheckbox() });
const TwoFactorBody = z.object({ staff: formCheckbox(), companyAdmins: formCheckbox() });
const NumberRangeBody = z.object({ firstNumber: formText(), lastNumber: formText(), blockSize: formText() });
const HelpLinksBody = z.object(
  Object.fromEntries(HELP_LINKS.map((k) => [k, formText()])) as Record<
    (typeof HELP_LINKS)[number],
    ReturnType<typeof formText>
  >,
);

export function tenantSettingsRoutes(ctx: AppContext): Router {
  const router = Router();

  type HelpLinksState = {
    errors?: Record<string, Msg>;
    values?: Record<string, string | null>;
    saved?: boolean;
    status?: number;
  };
  type NumberRangeState = { errors?: Record<string, Msg>; values?: Record<string, Msg>; status?: number };

  /** The whole page, or (for htmx) only the help links section. Later sections add their data here. */
  const renderSettings = async (
    res: Response,
    actor: Actor,
    help: HelpLinksState = {},
    numbers: NumberRangeState = {},
  ) => {
    const values = help.values ?? (await helpLinksForm(ctx.db, actor));
    res.renderPage(
      'admin/settings/index',
      {
        title: msg('Provider settings'),
        helpLinks: {
          values,
          errors: help.errors ?? {},
          saved: !!help.saved,
          fields: HELP_LINKS.map((k) => ({ key: k, ...HELP_LINK_TEXT[k] })),
        },
        numberRange: await numberRangeSection(ctx.db, actor, numbers),
        billing: await billingSettings(ctx.db, actor),
        twoFactor: await twoFactorRequirement(ctx.db, actor),
      },
      { fragment: 'admin/settings/_help-links', status: help.status ?? numbers.status },
    );
  };

  router.get('/admin/settings', ...allow('tenant_settings.manage', (_req, res, actor) => renderSettings(res, actor)));

  router.post(
    '/admin/settings/help-links',
    ...allow('tenant_settings.manage', async (req, res, actor) => {
      const form = HelpLinksBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          await saveHelpLinks(ctx.db, actor, form);
          if (wantsFragment(req)) return renderSettings(res, actor, { saved: true });
          res.flash('success', msg('The Help page links have been saved.'));
          res.redirect(303, '/admin/settings#help-links');
        },
        (errors, status) => renderSettings(res, actor, { errors, values: form, status }),
      );
    }),
  );

  // the number range "+" on a customer's Billing tab assigns internal number blocks from (issue 10)
  router.post(
    '/admin/settings/number-range',
    ...allow('tenant_settings.manage', async (req, res, actor) => {
      const form = NumberRangeBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const range = await setNumberRange(ctx.db, actor, form);
          res.flash(
            'success',
            msg('The number range is {first}–{last}, in blocks of {size}.', {
              first: String(range.firstNumber),
              last: String(range.lastNumber),
              size: String(range.blockSize),
            }),
          );
          res.redirect(303, '/admin/settings#number-range');
        },
        (errors, status) => renderSettings(res, actor, {}, { errors, values: form, status }),
      );
    }),
  );

  router.post(
    '/admin/settings/over-limit',
    ...allow('tenant_settings.manage', async (req, res, actor) => {
      const on = OverLimitBody.parse(req.body ?? {}).blockOverLimit;
      await setBlockOverLimit(ctx.db, actor, on);
      res.flash(
        'success',
        on
          ? msg('Usage of accounts over their limit is refused.')
          : msg('Usage of accounts over their limit is accepted.'),
      );
      res.redirect(303, '/admin/settings#over-limit');
    }),
  );

  router.post(
    '/admin/settings/two-factor',
    ...allow('tenant_settings.manage', async (req, res, actor) => {
      const form = TwoFactorBody.parse(req.body ?? {});
      const changed = await setTwoFactorRequirement(ctx.db, actor, form);
      res.flash(
        'success',
        changed ? msg('Two-factor requirements saved.') : msg('Nothing changed in the two-factor requirements.'),
      );
      res.redirect(303, '/admin/settings#two-factor');
    }),
  );

  return router;
}

/** The number range section: the saved range (or the input of a refused form) and how many blocks it holds. */
async function numberRangeSection(
  db: AppContext['db'],
  actor: Actor,
  state: { errors?: Record<string, Msg>; values?: Record<string, Msg> },
) {
  const range = await getNumberRange(db, actor);
  const values =
    state.values ??
    (range
      ? {
          firstNumber: String(range.firstNumber),
          lastNumber: String(range.lastNumber),
          blockSize: String(range.blockSize),
        }
      : {});
  return { range, blocks: range ? String(blocksInRange(range)) : '0', values, errors: state.errors ?? {} };
}
