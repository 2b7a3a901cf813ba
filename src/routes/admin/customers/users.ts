import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { formList, formText, idParam, orRerender, pageSizeParam } from '../../../web/forms.js';
import { noStore, shownActivation, userListBase, userViewHelpers } from '../../../web/user-screens.js';
import { type Actor, can, customerTabsFor, isSiteViewer } from '../../../services/access/index.js';
import {
  disableLoginLink,
  enableLoginLink,
  setViewerSites,
  sitesToGiveChoices,
  siteViewerPanel,
} from '../../../services/sites/index.js';
import {
  activationLink,
  createCustomerUser,
  customerForUsers,
  type CustomerUser,
  customerUserSessions,
  deleteCustomerUser,
  endCustomerUserSessions,
  getCustomerUser,
  listCustomerUsers,
  resendActivation,
  updateCustomerUser,
} from '../../../services/people/index.js';
import { msg, type Msg } from '../../../services/platform/i18n.js';

/** Provider staff: the Users tab of a customer, and a site viewer's sites and login link. */

// bounded so a huge field cannot reach the service; names and emails are checked there, well below these
const Params = z.object({ id: idParam(), userId: idParam() });
const ListQuery = z.object({
  q: formText(200),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  size: pageSizeParam(),
});
const NewUserBody = z.object({
  name: formText(1000),
  email: formText(1000),
  role: formText(40),
  activation: formText(20),
  // a new site viewer's sites, on the same form (one ticked box is a string, several an array)
  site_ids: formList(1001),
});
const EditUserBody = z.object({ name: formText(1000), role: formText(40), status: formText(20) });
const SitesBody = z.object({
  site_ids: z
    .unknown()
    .optional()
    .transform((v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String).slice(0, 1000)),
});

type FormState = { values: Record<string, unknown>; errors?: Record<string, Msg>; formError?: Msg };

export function adminCustomerUserRoutes(ctx: AppContext): Router {
  const router = Router();
  const mailEnv = () => ({ now: ctx.clock.now(), baseUrl: ctx.config.baseUrl });
  const base = (customerId: string) => `/admin/customers/${customerId}/users`;
  const linkOf = (token: string, expiresAt: Date, justCreated: boolean) => ({
    activation: shownActivation(ctx.config.baseUrl, token, expiresAt, justCreated),
  });

  /** A user's page; a site viewer's also shows their sites and their login link. */
  const renderUser = async (
    res: Response,
    actor: Actor,
    user: CustomerUser,
    extra: Record<string, unknown> = {},
    status = 200,
  ) => {
    const siteViewer =
      isSiteViewer(user) && can(actor, 'site_viewer.manage')
        ? await siteViewerPanel(ctx.db, actor, user.id, user.customerId, ctx.clock.now())
        : null;
    res.renderPage(
      'admin/customers/users/show',
      { ...userViewHelpers(actor), title: user.name, user, base: base(user.customerId), siteViewer, ...extra },
      { status },
    );
  };

  const renderNew = async (res: Response, actor: Actor, customerId: string, form: FormState, status = 200) => {
    const customer = await customerForUsers(ctx.db, actor, customerId);
    const sites = can(actor, 'site_viewer.manage') ? await sitesToGiveChoices(ctx.db, actor, customer.id) : [];
    const data = {
      ...userViewHelpers(actor),
      title: msg('Add a user to {customer}', { customer: customer.title }),
      customer,
      sites,
      errors: {},
      ...form,
    };
    res.renderPage('admin/customers/users/new', data, { status });
  };

  const renderEdit = async (res: Response, actor: Actor, user: CustomerUser, form: FormState, status = 200) => {
    const data = {
      ...userViewHelpers(actor),
      title: msg('Edit {name}', { name: user.name }),
      user,
      base: base(user.customerId),
    };
    res.renderPage('admin/customers/users/edit', { ...data, errors: {}, ...form }, { status });
  };

  router.get(
    '/admin/customers/:id/users',
    ...allow('customer_user.view', async (req, res, actor) => {
      const result = await listCustomerUsers(ctx.db, actor, Params.parse(req.params).id, ListQuery.parse(req.query));
      const customer = result.customer!;
      const data = {
        ...userViewHelpers(actor),
        ...result,
        title: msg('Users · {customer}', { customer: customer.title }),
        base: base(customer.id),
        tabs: customerTabsFor(actor, customer.id),
        listBase: userListBase(base(customer.id), { q: result.q, size: result.size }),
      };
      res.renderPage('admin/customers/users/index', data, { fragment: 'admin/customers/users/_table' });
    }),
  );

  router.get(
    '/admin/customers/:id/users/new',
    ...allow('customer_user.manage', (req, res, actor) =>
      renderNew(res, actor, Params.parse(req.params).id, { values: { activation: 'email' } }),
    ),
  );

  router.post(
    '/admin/customers/:id/users',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const { site_ids: siteIds, ...fields } = NewUserBody.parse(req.body ?? {});
      const form = { ...fields, siteIds };
      await orRerender(
        async () => {
          const { user, token, expiresAt } = await createCustomerUser(ctx.db, actor, id, form, mailEnv());
          if (!token) {
            res.flash(
              'success',
              msg('Added {name}. An activation email is on its way to {email}.', {
                name: user.name,
                email: user.email,
              }),
            );
            return res.redirect(303, `${base(user.customerId)}/${user.id}`);
          }
          noStore(res);
          await renderUser(res, actor, user, linkOf(token, expiresAt, true), 201);
        },
        (errors, status, err) =>
          renderNew(res, actor, id, { values: form, errors, formError: msg(err.message, err.values) }, status),
      );
    }),
  );

  router.get(
    '/admin/customers/:id/users/:userId',
    ...allow('customer_user.view', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      await renderUser(res, actor, await getCustomerUser(ctx.db, actor, userId, id));
    }),
  );

  router.get(
    '/admin/customers/:id/users/:userId/edit',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const user = await getCustomerUser(ctx.db, actor, userId, id);
      await renderEdit(res, actor, user, { values: user });
    }),
  );

  router.post(
    '/admin/customers/:id/users/:userId',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const form = EditUserBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const user = await updateCustomerUser(ctx.db, actor, userId, form, { now: ctx.clock.now(), customerId: id });
          res.flash('success', msg('Saved the changes to {name}.', { name: user.name }));
          res.redirect(303, `${base(user.customerId)}/${user.id}`);
        },
        async (errors, status, err) => {
          const user = await getCustomerUser(ctx.db, actor, userId, id);
          await renderEdit(
            res,
            actor,
            user,
            { values: { ...user, ...form }, errors, formError: msg(err.message, err.values) },
            status,
          );
        },
      );
    }),
  );

  router.post(
    '/admin/customers/:id/users/:userId/activation-email',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const user = await resendActivation(ctx.db, actor, userId, { ...mailEnv(), customerId: id });
      res.flash(
        'success',
        msg('A new activation email is on its way to {email}. Earlier links no longer work.', { email: user.email }),
      );
      res.redirect(303, `${base(user.customerId)}/${user.id}`);
    }),
  );

  router.post(
    '/admin/customers/:id/users/:userId/activation-link',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const { user, token, expiresAt } = await activationLink(ctx.db, actor, userId, {
        now: ctx.clock.now(),
        customerId: id,
      });
      noStore(res);
      await renderUser(res, actor, user, linkOf(token, expiresAt, false));
    }),
  );

  // ---- a site viewer's sites and login link (the link is shown once, on the page that answers the POST) ----
  router.post(
    '/admin/customers/:id/users/:userId/sites',
    ...allow('site_viewer.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const { site_ids } = SitesBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { name, count } = await setViewerSites(ctx.db, actor, userId, id, site_ids);
          res.flash('success', msg('{name} now sees {count, plural, one {# site} other {# sites}}.', { name, count }));
          res.redirect(303, `${base(id)}/${userId}`);
        },
        async (errors, status) =>
          renderUser(res, actor, await getCustomerUser(ctx.db, actor, userId, id), { siteErrors: errors }, status),
        // a user who is no site viewer has no sites section to show the reason in: the error page says it
        { conflictPage: true },
      );
    }),
  );

  router.post(
    '/admin/customers/:id/users/:userId/login-link',
    ...allow('site_viewer.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const { token, expiresAt, refreshed } = await enableLoginLink(ctx.db, actor, userId, id, ctx.clock.now());
      noStore(res);
      const user = await getCustomerUser(ctx.db, actor, userId, id);
      const link = `${ctx.config.baseUrl}/link/${token}`;
      await renderUser(res, actor, user, { loginLink: { link, expiresAt, refreshed } });
    }),
  );

  router.post(
    '/admin/customers/:id/users/:userId/login-link/delete',
    ...allow('site_viewer.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const { name } = await disableLoginLink(ctx.db, actor, userId, id, ctx.clock.now());
      res.flash('success', msg('The login link of {name} no longer works.', { name }));
      res.redirect(303, `${base(id)}/${userId}`);
    }),
  );

  // ---- "End all sessions": the person is signed out of every session with this provider, at once ----
  router.get(
    '/admin/customers/:id/users/:userId/sessions/delete',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const { user, count } = await customerUserSessions(ctx.db, actor, userId, {
        now: ctx.clock.now(),
        customerId: id,
      });
      res.renderPage('admin/customers/users/end-sessions', {
        ...userViewHelpers(actor),
        title: msg('End all sessions of {name}?', { name: user.name }),
        user,
        count,
        base: base(user.customerId),
      });
    }),
  );

  router.post(
    '/admin/customers/:id/users/:userId/sessions/delete',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const now = ctx.clock.now();
      const { user, sessionsEnded: n } = await endCustomerUserSessions(ctx.db, actor, userId, { now, customerId: id });
      const event = { event: 'sessions_ended_by_staff', userId: user.id, staffUserId: actor.userId, count: n };
      req.log.info(event, "staff ended a user's sessions");
      res.flash(
        'success',
        n
          ? msg('Ended {count, plural, one {# session} other {# sessions}} of {name}.', { count: n, name: user.name })
          : msg('{name} had no session to end.', { name: user.name }),
      );
      res.redirect(303, `${base(user.customerId)}/${user.id}`);
    }),
  );

  router.get(
    '/admin/customers/:id/users/:userId/delete',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const user = await getCustomerUser(ctx.db, actor, userId, id);
      res.renderPage('admin/customers/users/delete', {
        ...userViewHelpers(actor),
        title: msg('Delete {name}?', { name: user.name }),
        user,
        base: base(user.customerId),
      });
    }),
  );

  router.post(
    '/admin/customers/:id/users/:userId/delete',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const user = await deleteCustomerUser(ctx.db, actor, userId, { customerId: id });
      res.flash(
        'success',
        msg('Deleted {name}. They can no longer sign in to {customer}.', {
          name: user.name,
          customer: user.customerTitle,
        }),
      );
      res.redirect(303, base(user.customerId));
    }),
  );

  return router;
}
