import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { ValidationError } from '../errors.js';
import { allow } from '../web/auth.js';
import { can, CUSTOMER_ROLES, customerTabsFor, ROLE_LABELS, type Actor } from '../services/access/index.js';
import { disableLoginLink, enableLoginLink, setViewerSites, siteViewerPanel } from '../services/sites/index.js';
import { formatDateTime } from '../services/platform/index.js';
import {
  ACTIVATION_DAYS,
  activateAccount,
  activationLink,
  checkActivationLink,
  createCustomerUser,
  customerForUsers,
  customersWithUsersInReach,
  deleteCustomerUser,
  getCustomerUser,
  listCustomerUsers,
  PAGE_SIZES,
  resendActivation,
  STATUS_LABELS,
  updateCustomerUser,
  type CustomerUser,
  type InvalidLinkReason,
} from '../services/people/index.js';
import { formText } from '../web/forms.js';

// form and query values arrive as strings, or arrays when a field repeats; bounded so a huge field cannot reach the service; names and emails are checked there, well below these
const text = (max: number) => formText().transform((v) => v.slice(0, max));
const NewUserForm = z.object({
  name: text(1000),
  email: text(1000),
  role: text(40),
  activation: text(20),
  customerId: text(100),
});
const EditUserForm = z.object({ name: text(1000), role: text(40), status: text(20) });
const Params = z.object({ id: text(100), userId: text(100), token: text(200) });
const params = (req: Request) => Params.parse(req.params);
const PasswordForm = z.object({ password: text(1000), passwordConfirm: text(1000) });
const ListQuery = z.object({
  q: text(200),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  size: z.coerce.number().int().catch(25),
  customer: text(100),
});

const roleOptions = CUSTOMER_ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] }));
const activationOptions = [
  { value: 'email', label: 'Email them an activation link (recommended)' },
  { value: 'link', label: 'Display an activation link for me to hand over' },
];

/** What every page of this module shows users with. */
function viewHelpers(actor: Actor) {
  return {
    roleLabels: ROLE_LABELS,
    statusLabels: STATUS_LABELS,
    roleOptions,
    activationOptions,
    pageSizes: PAGE_SIZES,
    activationDays: ACTIVATION_DAYS,
    formatTime: (d: Date) => formatDateTime(d, actor.timeZone),
  };
}

/** A list's URL with its state in the query string but no page (the pagination adds that). */
function listBase(path: string, state: { q: string; size: number; customer?: string }): string {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.customer) params.set('customer', state.customer);
  if (state.size !== 25) params.set('size', String(state.size));
  return params.size ? `${path}?${params.toString()}` : path;
}

/** A page that shows a raw activation link must stay out of every cache and of the history's reload. */
const noStore = (res: Response) => res.set('Cache-Control', 'no-store');

/** Re-renders a form with its messages (422), or lets any other error through to the error handler. */
function renderInvalid(err: unknown, res: Response, page: string, data: Record<string, unknown>) {
  if (!(err instanceof ValidationError)) throw err;
  res.renderPage(page, { ...data, errors: err.fields, formError: err.message }, { status: 422 });
}

/** Signs a person in with a fresh session id, with the same fields as a password sign-in sets. */
async function startSession(req: Request, now: Date, who: { userId: string; membershipId: string }): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  const at = now.getTime();
  Object.assign(req.session, {
    userId: who.userId,
    membershipId: who.membershipId,
    createdAt: at,
    lastSeenAt: at,
    userAgent: req.get('user-agent')?.slice(0, 300) ?? null,
  });
}

export function customerUserRoutes(ctx: AppContext): Router {
  const router = Router();
  const mailEnv = () => ({ now: ctx.clock.now(), baseUrl: ctx.config.baseUrl });
  const linkFor = (token: string) => `${ctx.config.baseUrl}/activate/${token}`;

  // ---- provider staff: the Users tab of a customer ----
  const staff = allow('customer_user.manage');
  const adminBase = (customerId: string) => `/admin/customers/${customerId}/users`;
  const adminUserPage = async (
    req: Request,
    res: Response,
    user: CustomerUser,
    extra: Record<string, unknown> = {},
    status = 200,
  ) => {
    // a site viewer's page also shows their sites and their login link
    const siteViewer =
      user.role === 'site_viewer' && can(req.actor, 'site_viewer.manage')
        ? await siteViewerPanel(ctx.db, req.actor!, user.id, user.customerId, ctx.clock.now())
        : null;
    res.renderPage(
      'admin/customers/users/show',
      { ...viewHelpers(req.actor!), title: user.name, user, base: adminBase(user.customerId), siteViewer, ...extra },
      { status },
    );
  };

  router.get('/admin/customers/:id/users', ...staff, async (req, res) => {
    const list = ListQuery.parse(req.query);
    const result = await listCustomerUsers(ctx.db, req.actor!, params(req).id, list);
    const base = adminBase(result.customer!.id);
    const tabs = customerTabsFor(req.actor!, result.customer!.id);
    res.renderPage(
      'admin/customers/users/index',
      {
        ...viewHelpers(req.actor!),
        ...result,
        title: `Users · ${result.customer!.title}`,
        base,
        tabs,
        listBase: listBase(base, { q: result.q, size: result.size }),
      },
      { fragment: 'admin/customers/users/_table' },
    );
  });

  router.get('/admin/customers/:id/users/new', ...staff, async (req, res) => {
    const customer = await customerForUsers(ctx.db, req.actor!, params(req).id);
    res.renderPage('admin/customers/users/new', {
      ...viewHelpers(req.actor!),
      title: `Add a user to ${customer.title}`,
      customer,
      values: { activation: 'email' },
      errors: {},
    });
  });

  router.post('/admin/customers/:id/users', ...staff, async (req, res) => {
    const form = NewUserForm.parse(req.body ?? {});
    try {
      const { user, token, expiresAt } = await createCustomerUser(ctx.db, req.actor!, params(req).id, form, mailEnv());
      if (!token) {
        ctx.mailPump.kick();
        res.flash('success', `Added ${user.name}. An activation email is on its way to ${user.email}.`);
        return res.redirect(303, `${adminBase(user.customerId)}/${user.id}`);
      }
      noStore(res);
      await adminUserPage(req, res, user, { activation: { link: linkFor(token), expiresAt, justCreated: true } }, 201);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const customer = await customerForUsers(ctx.db, req.actor!, params(req).id);
      renderInvalid(err, res, 'admin/customers/users/new', {
        ...viewHelpers(req.actor!),
        title: `Add a user to ${customer.title}`,
        customer,
        values: form,
      });
    }
  });

  router.get('/admin/customers/:id/users/:userId', ...staff, async (req, res) => {
    await adminUserPage(req, res, await getCustomerUser(ctx.db, req.actor!, params(req).userId, params(req).id));
  });

  router.get('/admin/customers/:id/users/:userId/edit', ...staff, async (req, res) => {
    const user = await getCustomerUser(ctx.db, req.actor!, params(req).userId, params(req).id);
    res.renderPage('admin/customers/users/edit', {
      ...viewHelpers(req.actor!),
      title: `Edit ${user.name}`,
      user,
      base: adminBase(user.customerId),
      values: user,
      errors: {},
    });
  });

  router.post('/admin/customers/:id/users/:userId', ...staff, async (req, res) => {
    const form = EditUserForm.parse(req.body ?? {});
    try {
      const user = await updateCustomerUser(ctx.db, req.actor!, params(req).userId, form, {
        now: ctx.clock.now(),
        customerId: params(req).id,
      });
      res.flash('success', `Saved the changes to ${user.name}.`);
      res.redirect(303, `${adminBase(user.customerId)}/${user.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const user = await getCustomerUser(ctx.db, req.actor!, params(req).userId, params(req).id);
      renderInvalid(err, res, 'admin/customers/users/edit', {
        ...viewHelpers(req.actor!),
        title: `Edit ${user.name}`,
        user,
        base: adminBase(user.customerId),
        values: { ...user, ...form },
      });
    }
  });

  router.post('/admin/customers/:id/users/:userId/activation-email', ...staff, async (req, res) => {
    const user = await resendActivation(ctx.db, req.actor!, params(req).userId, {
      ...mailEnv(),
      customerId: params(req).id,
    });
    ctx.mailPump.kick();
    res.flash('success', `A new activation email is on its way to ${user.email}. Earlier links no longer work.`);
    res.redirect(303, `${adminBase(user.customerId)}/${user.id}`);
  });

  router.post('/admin/customers/:id/users/:userId/activation-link', ...staff, async (req, res) => {
    const { user, token, expiresAt } = await activationLink(ctx.db, req.actor!, params(req).userId, {
      now: ctx.clock.now(),
      customerId: params(req).id,
    });
    noStore(res);
    await adminUserPage(req, res, user, { activation: { link: linkFor(token), expiresAt, justCreated: false } });
  });

  // ---- a site viewer's sites and login link (the link is shown once, on the page that answers the POST) ----
  const viewerStaff = allow('site_viewer.manage');
  const loginLinkFor = (token: string) => `${ctx.config.baseUrl}/link/${token}`;

  router.post('/admin/customers/:id/users/:userId/sites', ...viewerStaff, async (req, res) => {
    const ids = (req.body as { site_ids?: unknown } | undefined)?.site_ids;
    const siteIds = (Array.isArray(ids) ? ids : ids === undefined ? [] : [ids]).map(String).slice(0, 1000);
    const { userId, id } = params(req);
    try {
      const { name, count } = await setViewerSites(ctx.db, req.actor!, userId, id, siteIds);
      res.flash('success', `${name} now sees ${count} site${count === 1 ? '' : 's'}.`);
      res.redirect(303, `${adminBase(id)}/${userId}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await adminUserPage(
        req,
        res,
        await getCustomerUser(ctx.db, req.actor!, userId, id),
        { siteErrors: err.fields },
        422,
      );
    }
  });

  router.post('/admin/customers/:id/users/:userId/login-link', ...viewerStaff, async (req, res) => {
    const { userId, id } = params(req);
    const { token, expiresAt, refreshed } = await enableLoginLink(ctx.db, req.actor!, userId, id, ctx.clock.now());
    noStore(res);
    const user = await getCustomerUser(ctx.db, req.actor!, userId, id);
    await adminUserPage(req, res, user, { loginLink: { link: loginLinkFor(token), expiresAt, refreshed } });
  });

  router.post('/admin/customers/:id/users/:userId/login-link/delete', ...viewerStaff, async (req, res) => {
    const { userId, id } = params(req);
    const { name } = await disableLoginLink(ctx.db, req.actor!, userId, id, ctx.clock.now());
    res.flash('success', `The login link of ${name} no longer works.`);
    res.redirect(303, `${adminBase(id)}/${userId}`);
  });

  router.get('/admin/customers/:id/users/:userId/delete', ...staff, async (req, res) => {
    const user = await getCustomerUser(ctx.db, req.actor!, params(req).userId, params(req).id);
    res.renderPage('admin/customers/users/delete', {
      ...viewHelpers(req.actor!),
      title: `Delete ${user.name}?`,
      user,
      base: adminBase(user.customerId),
    });
  });

  router.post('/admin/customers/:id/users/:userId/delete', ...staff, async (req, res) => {
    const user = await deleteCustomerUser(ctx.db, req.actor!, params(req).userId, { customerId: params(req).id });
    res.flash('success', `Deleted ${user.name}. They can no longer sign in to ${user.customerTitle}.`);
    res.redirect(303, adminBase(user.customerId));
  });

  // ---- company admins: the Users page of their customer and its inner customers ----
  const ownUserPage = (
    req: Request,
    res: Response,
    user: CustomerUser,
    extra: Record<string, unknown> = {},
    status = 200,
  ) =>
    res.renderPage(
      'users/show',
      {
        ...viewHelpers(req.actor!),
        title: user.name,
        user,
        base: '/users',
        values: user,
        errors: {},
        canManage: can(req.actor, 'users.manage'),
        self: user.id === req.actor!.userId,
        ...extra,
      },
      { status },
    );

  router.get('/users', ...allow('users.view'), async (req, res) => {
    const list = ListQuery.parse(req.query);
    const customers = await customersWithUsersInReach(ctx.db, req.actor!);
    const customer = customers.some((c) => c.id === list.customer) ? list.customer : '';
    const result = await listCustomerUsers(ctx.db, req.actor!, customer || null, list);
    const base = listBase('/users', { q: result.q, size: result.size, customer });
    res.renderPage(
      'users/index',
      {
        ...viewHelpers(req.actor!),
        ...result,
        title: 'Users',
        customers,
        customer,
        base: '/users',
        listBase: base,
        canManage: can(req.actor, 'users.manage'),
      },
      { fragment: 'users/_table' },
    );
  });

  router.get('/users/new', ...allow('users.manage'), async (req, res) => {
    const customers = await customersWithUsersInReach(ctx.db, req.actor!);
    res.renderPage('users/new', {
      ...viewHelpers(req.actor!),
      title: 'Add a user',
      customers,
      values: { activation: 'email', customerId: req.actor!.customerId },
      errors: {},
    });
  });

  router.post('/users', ...allow('users.manage'), async (req, res) => {
    const form = NewUserForm.parse(req.body ?? {});
    try {
      const { user, token, expiresAt } = await createCustomerUser(ctx.db, req.actor!, form.customerId, form, mailEnv());
      if (!token) {
        ctx.mailPump.kick();
        res.flash('success', `Added ${user.name}. An activation email is on its way to ${user.email}.`);
        return res.redirect(303, `/users/${user.id}`);
      }
      noStore(res);
      ownUserPage(req, res, user, { activation: { link: linkFor(token), expiresAt, justCreated: true } }, 201);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const customers = await customersWithUsersInReach(ctx.db, req.actor!);
      renderInvalid(err, res, 'users/new', {
        ...viewHelpers(req.actor!),
        title: 'Add a user',
        customers,
        values: form,
      });
    }
  });

  router.get('/users/:id', ...allow('users.view'), async (req, res) => {
    ownUserPage(req, res, await getCustomerUser(ctx.db, req.actor!, params(req).id));
  });

  router.post('/users/:id', ...allow('users.manage'), async (req, res) => {
    const form = EditUserForm.parse(req.body ?? {});
    try {
      const user = await updateCustomerUser(ctx.db, req.actor!, params(req).id, form, { now: ctx.clock.now() });
      res.flash('success', `Saved the changes to ${user.name}.`);
      res.redirect(303, `/users/${user.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const user = await getCustomerUser(ctx.db, req.actor!, params(req).id);
      ownUserPage(req, res, user, { values: { ...user, ...form }, errors: err.fields, formError: err.message }, 422);
    }
  });

  router.post('/users/:id/activation-email', ...allow('users.manage'), async (req, res) => {
    const user = await resendActivation(ctx.db, req.actor!, params(req).id, mailEnv());
    ctx.mailPump.kick();
    res.flash('success', `A new activation email is on its way to ${user.email}. Earlier links no longer work.`);
    res.redirect(303, `/users/${user.id}`);
  });

  router.post('/users/:id/activation-link', ...allow('users.manage'), async (req, res) => {
    const { user, token, expiresAt } = await activationLink(ctx.db, req.actor!, params(req).id, {
      now: ctx.clock.now(),
    });
    noStore(res);
    ownUserPage(req, res, user, { activation: { link: linkFor(token), expiresAt, justCreated: false } });
  });

  // ---- the new user: choose a password through the activation link ----
  const invalidLink = (req: Request, res: Response, reason: InvalidLinkReason) => {
    req.log.info({ event: 'activation_link_refused', reason }, 'activation link refused');
    res.renderPage(
      'account/activation/index',
      { title: 'Activation link not valid', invalid: reason },
      { status: reason === 'unknown' ? 404 : 410 },
    );
  };

  router.get('/activate/:token', async (req, res) => {
    noStore(res);
    const link = await checkActivationLink(ctx.db, ctx.clock.now(), params(req).token, {
      address: req.ip ?? 'unknown',
    });
    if (!link.ok) return invalidLink(req, res, link.reason);
    res.renderPage('account/activation/index', {
      title: 'Activate your account',
      token: params(req).token,
      account: link,
      errors: {},
    });
  });

  router.post('/activate/:token', async (req, res) => {
    noStore(res);
    const form = PasswordForm.parse(req.body ?? {});
    const address = req.ip ?? 'unknown';
    try {
      const result = await activateAccount(ctx.db, ctx.clock.now(), params(req).token, { ...form, address });
      if (!result.ok) return invalidLink(req, res, result.reason);
      await startSession(req, ctx.clock.now(), result);
      req.log.info({ event: 'account_activated', userId: result.userId }, 'account activated');
      res.flash('success', 'Your account is active, and you are signed in. Welcome to Portico.');
      res.redirect(303, result.landing);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const link = await checkActivationLink(ctx.db, ctx.clock.now(), params(req).token, { address });
      if (!link.ok) return invalidLink(req, res, link.reason);
      res.renderPage(
        'account/activation/index',
        {
          title: 'Activate your account',
          token: params(req).token,
          account: link,
          errors: err.fields,
          formError: err.message,
        },
        { status: 422 },
      );
    }
  });

  return router;
}
