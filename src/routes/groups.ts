import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { allow } from '../web/auth.js';
import { sendCsvStream } from '../web/downloads.js';
import { wantsFragment } from '../web/render.js';
import { readDb } from '../web/replica.js';
import {
  ASSET_TAB_LABELS,
  ASSET_TABS,
  assetFilterFrom,
  assetListHref,
  listAssets,
  streamAssetsCsv,
  todayIn,
} from '../services/assets/index.js';
import {
  assignableUsers,
  createGroup,
  getGroup,
  getGroupHeader,
  getGroupUsers,
  GROUP_TAB_LABELS,
  GROUP_TABS,
  groupForEdit,
  type GroupForm,
  groupListHref,
  groupListQueryFrom,
  groupMap,
  type GroupUsers,
  listGroups,
  newGroupChoices,
  setGroupUsers,
  submittedIds,
  updateGroup,
  userOptions,
} from '../services/groups/index.js';
import { type Actor, can } from '../services/access/index.js';
import { DEFAULT_PAGE_SIZE, PAGE_SIZES } from '../services/platform/index.js';
import { formCheckbox, formText, idParam, orRerender } from '../web/forms.js';
import type { Msg } from '../services/platform/i18n.js';

/** The Groups page, a group's page with its assets and users, creating and editing groups, and the devices map. */

const Params = z.object({ id: idParam() });
const NewGroupQuery = z.object({ parent: formText(100) });
const UserOptionsQuery = z.object({ q: formText(), user_ids: z.unknown().optional() });
const GroupBody = z.object({
  name: formText(1000),
  reference: formText(1000),
  parent_id: formText(100),
  customer_id: formText(100),
  enabled: formCheckbox(),
});
const UsersBody = z.object({ user_ids: z.unknown().optional() });
const numbers = new Intl.NumberFormat('en-GB');
const groupListView = {
  tabs: GROUP_TABS,
  tabLabels: GROUP_TAB_LABELS,
  pageSizes: PAGE_SIZES,
  href: groupListHref,
};
const assetView = {
  tabs: ASSET_TABS,
  tabLabels: ASSET_TAB_LABELS,
  pageSizes: PAGE_SIZES,
  defaultPageSize: DEFAULT_PAGE_SIZE,
  href: assetListHref,
  formatNumber: (n: number) => numbers.format(n),
};

/** A checkbox sends its value only when ticked: on the edit form no value means off; a new group starts enabled. */
const groupForm = (body: z.infer<typeof GroupBody>, hasEnabled: boolean): GroupForm => ({
  ...body,
  enabled: hasEnabled ? body.enabled : true,
});

type UsersSection = { note?: string; errors?: Record<string, Msg>; users?: GroupUsers; status?: number };

export function groupRoutes(ctx: AppContext): Router {
  const router = Router();
  const today = (actor: Actor) => todayIn(actor.timeZone, ctx.clock.now());
  // what the map buttons and the map need to draw: Leaflet's files are in the layout's assets, the tiles are
  // from the configuration
  const tiles = { url: ctx.config.mapTileUrl ?? '', attribution: ctx.config.mapTileAttribution };

  const renderNew = async (
    res: Response,
    actor: Actor,
    values: Partial<GroupForm>,
    errors: Record<string, Msg> = {},
    status = 200,
  ) => {
    const choices = await newGroupChoices(ctx.db, actor);
    res.renderPage('groups/new', { title: 'Create a group', ...choices, values, errors }, { status });
  };

  const renderEdit = async (
    res: Response,
    actor: Actor,
    groupId: string,
    values?: GroupForm,
    errors: Record<string, Msg> = {},
    status = 200,
  ) => {
    const { group, parents } = await groupForEdit(ctx.db, actor, groupId);
    const current = {
      name: group.name,
      reference: group.reference ?? '',
      parent_id: group.parent_id ?? '',
      customer_id: group.customer_id,
      enabled: group.enabled,
    };
    res.renderPage(
      'groups/edit',
      { title: `Edit ${group.path}`, group, parents, values: values ?? current, errors },
      { status },
    );
  };

  /** The users section: the whole group page, or for htmx only the section, which it swaps in place. */
  const renderGroup = async (req: Request, res: Response, actor: Actor, groupId: string, extra: UsersSection = {}) => {
    const canAssign = can(actor, 'group.assign_users');
    const options = canAssign ? await assignableUsers(ctx.db, actor, groupId) : [];
    const section = { canAssign, options, note: extra.note ?? '', errors: extra.errors ?? {}, tiles };
    if (extra.users && wantsFragment(req)) {
      const { group } = await getGroupUsers(ctx.db, actor, groupId);
      return res.renderPage('groups/_users', { group, users: extra.users, ...section }, { status: extra.status });
    }
    const detail = await getGroup(ctx.db, actor, groupId, today(actor));
    const list = await listAssets(ctx.db, actor, {
      ...assetFilterFrom(req.query, today(actor)),
      groupId: detail.group.id,
    });
    res.renderPage(
      'groups/show',
      {
        title: detail.group.path,
        ...detail,
        ...section,
        list,
        base: `/groups/${detail.group.id}`,
        ...assetView,
        linkAssets: true,
        canRequest: can(actor, 'asset.request'),
        canManage: can(actor, 'group.manage'),
        canMap: can(actor, 'group.map'),
      },
      { fragment: 'assets/_list', status: extra.status },
    );
  };

  router.get(
    '/groups',
    ...allow('group.view', async (req, res, actor) => {
      const list = await listGroups(ctx.db, actor, groupListQueryFrom(req.query), today(actor));
      const canManage = can(actor, 'group.manage');
      const newGroup = canManage ? await newGroupChoices(ctx.db, actor) : null;
      const data = { title: 'Groups', list, ...groupListView, canManage, canMap: can(actor, 'group.map'), newGroup };
      res.renderPage('groups/index', { ...data, tiles }, { fragment: 'groups/_list' });
    }),
  );

  router.get(
    '/groups/new',
    ...allow('group.manage', (req, res, actor) => {
      const { parent } = NewGroupQuery.parse(req.query);
      return renderNew(res, actor, { parent_id: parent, customer_id: actor.customerId ?? '' });
    }),
  );

  router.post(
    '/groups',
    ...allow('group.manage', async (req, res, actor) => {
      const form = groupForm(GroupBody.parse(req.body ?? {}), false);
      await orRerender(
        async () => {
          const group = await createGroup(ctx.db, actor, form);
          res.flash('success', `Group ${group.path} created.`);
          res.redirect(303, `/groups/${group.id}`);
        },
        (errors, status) => renderNew(res, actor, form, errors, status),
      );
    }),
  );

  // before /groups/:id, which would take "x.csv" for an id
  router.get(
    '/groups/:id.csv',
    ...allow('group.view', async (req, res, actor) => {
      const leaving = new AbortController();
      res.on('close', () => leaving.abort());
      const group = await getGroupHeader(ctx.db, actor, Params.parse(req.params).id);
      const filter = { ...assetFilterFrom(req.query, today(actor)), groupId: group.id };
      const download = await streamAssetsCsv(readDb(ctx, req), actor, filter, { signal: leaving.signal });
      await sendCsvStream(res, download, ctx.config.exportSendTimeoutMs);
    }),
  );

  router.get(
    '/groups/:id',
    ...allow('group.view', (req, res, actor) => renderGroup(req, res, actor, Params.parse(req.params).id)),
  );

  router.get(
    '/groups/:id/edit',
    ...allow('group.manage', (req, res, actor) => renderEdit(res, actor, Params.parse(req.params).id)),
  );

  router.post(
    '/groups/:id',
    ...allow('group.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = groupForm(GroupBody.parse(req.body ?? {}), true);
      await orRerender(
        async () => {
          const { group, renamedAssets } = await updateGroup(ctx.db, actor, id, form);
          const assets = renamedAssets
            ? ` ${numbers.format(renamedAssets)} asset${renamedAssets === 1 ? '' : 's'} now show the new path.`
            : '';
          res.flash('success', `Group ${group.path} saved.${assets}`);
          res.redirect(303, `/groups/${group.id}`);
        },
        (errors, status) => renderEdit(res, actor, id, form, errors, status),
      );
    }),
  );

  router.post(
    '/groups/:id/users',
    ...allow('group.assign_users', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const ids = submittedIds(UsersBody.parse(req.body ?? {}).user_ids);
      await orRerender(
        async () => {
          const { users, added, removed } = await setGroupUsers(ctx.db, actor, id, ids);
          const note = usersChangedNote(added, removed);
          if (wantsFragment(req)) return renderGroup(req, res, actor, id, { note: `Saved. ${note}`, users });
          res.flash('success', `Users of the group saved. ${note}`);
          res.redirect(303, `/groups/${id}`);
        },
        async (errors, status) => {
          const { users } = await getGroupUsers(ctx.db, actor, id);
          await renderGroup(req, res, actor, id, { errors, users, status });
        },
      );
    }),
  );

  router.get(
    '/groups/:id/user-options',
    ...allow('group.assign_users', async (req, res, actor) => {
      const query = UserOptionsQuery.parse(req.query);
      const chosen = submittedIds(query.user_ids) ?? [];
      const result = await userOptions(ctx.db, actor, Params.parse(req.params).id, { q: query.q, chosen });
      res.renderPage('groups/_user-options', result);
    }),
  );

  router.get(
    '/groups/:id/map',
    ...allow('group.map', async (req, res, actor) => {
      const map = await groupMap(ctx.db, actor, Params.parse(req.params).id);
      res.renderPage('groups/map', { title: `Map of ${map.group.path}`, map, tiles });
    }),
  );

  router.get(
    '/groups/:id/map.json',
    ...allow('group.map', async (req, res, actor) => {
      res.set('Cache-Control', 'no-store').json(await groupMap(ctx.db, actor, Params.parse(req.params).id));
    }),
  );

  return router;
}

/** What changed in a group's users, in words. */
function usersChangedNote(added: { name: string }[], removed: { name: string }[]): string {
  const names = (list: { name: string }[]) => list.map((u) => u.name).join(', ');
  return (
    [added.length ? `Added ${names(added)}.` : '', removed.length ? `Removed ${names(removed)}.` : '']
      .filter(Boolean)
      .join(' ') || 'No change: the users were already these.'
  );
}
