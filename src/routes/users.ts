import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { allow } from '../web/auth.js';
import { formList, formText, idParam, orRerender, pageSizeParam } from '../web/forms.js';
import { noStore, shownActivation, userListBase, userViewHelpers } from '../web/user-screens.js';
import { type Actor, can } from '../services/access/index.js';
import { groupsToGiveChoices } from '../services/groups/index.js';
import {
  activationLink,
  createCustomerUser,
  type CustomerUser,
  customersWithUsersInReach,
  getCustomerUser,
  listCustomerUsers,
  resendActivation,
  updateCustomerUser,
} from '../services/people/index.js';
import { msg, type Msg } from '../services/platform/i18n.js';

/** Company admins: the Users page of their customer and its inner customers. */

// bounded so a huge field cannot reach the service; names and emails are checked there, well below these
const Params = z.object({ id: idParam() });
const ListQuery = z.object({
  q: formText(200),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  size: pageSizeParam(),
  customer: formText(100),
});
const NewUserBody = z.object({
  name: formText(1000),
  email: formText(1000),
  role: formText(40),
  activation: formText(20),
  customerId: formText(100),
  // bounded before it reaches the service, which refuses more than 1000
  group_ids: formList(1001),
});
const EditUserBody = z.object({ name: formText(1000), role: formText(40), status: formText(20) });

export function userRoutes(ctx: AppContext): Router {
  const router = Router();
  const mailEnv = () => ({ now: ctx.clock.now(), baseUrl: ctx.config.baseUrl });
  const linkOf = (token: string, expiresAt: Date, justCreated: boolean) => ({
    activation: shownActivation(ctx.config.baseUrl, token, expiresAt, justCreated),
  });

  /** A user's page, with the edit form for those who may change them. */
  const renderUser = (
    res: Response,
    actor: Actor,
    user: CustomerUser,
    extra: Record<string, unknown> = {},
    status = 200,
  ) =>
    res.renderPage(
      'users/show',
      {
        ...userViewHelpers(actor),
        // a name is shown as it is, never read as a message (a brace in it would be a placeholder)
        title: msg('{text}', { text: user.name }),
        user,
        base: '/users',
        values: user,
        errors: {},
        canManage: can(actor, 'users.manage'),
        self: user.id === actor.userId,
        ...extra,
      },
      { status },
    );

  const renderNew = async (
    res: Response,
    actor: Actor,
    form: { values: Record<string, unknown>; errors?: Record<string, Msg>; formError?: Msg },
    status = 200,
  ) => {
    const customers = await customersWithUsersInReach(ctx.db, actor);
    const groups = await groupsToGiveChoices(ctx.db, actor);
    res.renderPage(
      'users/new',
      { ...userViewHelpers(actor), title: msg('Add a user'), customers, groups, errors: {}, ...form },
      { status },
    );
  };

  router.get(
    '/users',
    ...allow('users.view', async (req, res, actor) => {
      const list = ListQuery.parse(req.query);
      const customers = await customersWithUsersInReach(ctx.db, actor);
      const customer = customers.some((c) => c.id === list.customer) ? list.customer : '';
      const result = await listCustomerUsers(ctx.db, actor, customer || null, list);
      const data = {
        ...userViewHelpers(actor),
        ...result,
        title: msg('Users'),
        customers,
        customer,
        base: '/users',
        listBase: userListBase('/users', { q: result.q, size: result.size, customer }),
        canManage: can(actor, 'users.manage'),
      };
      res.renderPage('users/index', data, { fragment: 'users/_table' });
    }),
  );

  router.get(
    '/users/new',
    ...allow('users.manage', (_req, res, actor) =>
      renderNew(res, actor, { values: { activation: 'email', customerId: actor.customerId } }),
    ),
  );

  router.post(
    '/users',
    ...allow('users.manage', async (req, res, actor) => {
      const { group_ids: groupIds, ...fields } = NewUserBody.parse(req.body ?? {});
      const form = { ...fields, groupIds };
      await orRerender(
        async () => {
          const { user, token, expiresAt } = await createCustomerUser(ctx.db, actor, form.customerId, form, mailEnv());
          if (!token) {
            res.flash(
              'success',
              msg('Added {name}. An activation email is on its way to {email}.', {
                name: user.name,
                email: user.email,
              }),
            );
            return res.redirect(303, `/users/${user.id}`);
          }
          noStore(res);
          renderUser(res, actor, user, linkOf(token, expiresAt, true), 201);
        },
        (errors, status, err) =>
          renderNew(res, actor, { values: form, errors, formError: msg(err.message, err.values) }, status),
      );
    }),
  );

  router.get(
    '/users/:id',
    ...allow('users.view', async (req, res, actor) => {
      renderUser(res, actor, await getCustomerUser(ctx.db, actor, Params.parse(req.params).id));
    }),
  );

  router.post(
    '/users/:id',
    ...allow('users.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = EditUserBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const user = await updateCustomerUser(ctx.db, actor, id, form, { now: ctx.clock.now() });
          res.flash('success', msg('Saved the changes to {name}.', { name: user.name }));
          res.redirect(303, `/users/${user.id}`);
        },
        async (errors, status, err) => {
          const user = await getCustomerUser(ctx.db, actor, id);
          renderUser(
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
    '/users/:id/activation-email',
    ...allow('users.manage', async (req, res, actor) => {
      const user = await resendActivation(ctx.db, actor, Params.parse(req.params).id, mailEnv());
      res.flash(
        'success',
        msg('A new activation email is on its way to {email}. Earlier links no longer work.', { email: user.email }),
      );
      res.redirect(303, `/users/${user.id}`);
    }),
  );

  router.post(
    '/users/:id/activation-link',
    ...allow('users.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const { user, token, expiresAt } = await activationLink(ctx.db, actor, id, { now: ctx.clock.now() });
      noStore(res);
      renderUser(res, actor, user, linkOf(token, expiresAt, false));
    }),
  );

  return router;
}
