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
  DUE_COUNT_BOUND,
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
import { msg, type Msg } from '../services/platform/i18n.js';
import { requestTranslator } from '../web/locale.js';
import { withDayLabels } from './assets/day-labels.js';

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
const groupListView = {
  tabs: GROUP_TABS,
  tabLabels: GROUP_TAB_LABELS,
  pageSizes: PAGE_SIZES,
  href: groupListHref,
  dueBound: DUE_COUNT_BOUND,
};
const assetView = (req: Request, res: Response) => {
  const i18n = requestTranslator(req, res);
  return {
    tabs: ASSET_TABS,
    tabLabels: ASSET_TAB_LABELS,
    pageSizes: PAGE_SIZES,
    defaultPageSize: DEFAULT_PAGE_SIZE,
    href: assetListHref,
    formatNumber: (n: number) => i18n.number(n),
    dueBound: DUE_COUNT_BOUND,
  };
};

/** A checkbox sends its value only when ticked: on the edit form no value means off; a new group starts enabled. */
const groupForm = (body: z.infer<typeof GroupBody>, hasEnabled: boolean): GroupForm => ({
  ...body,
  enabled: hasEnabled ? body.enabled : true,
});

type UsersSection = { note?: Msg; errors?: Record<string, Msg>; users?: GroupUsers; status?: number };

export function groupRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use('/groups', withDayLabels);
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
    res.renderPage('groups/new', { title: msg('Create a group'), ...choices, values, errors }, { status });
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
      { title: msg('Edit {name}', { name: group.path }), group, parents, values: values ?? current, errors },
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
        title: msg('{name}', { name: detail.group.path }),
        ...detail,
        ...section,
        list,
        base: `/groups/${detail.group.id}`,
        ...assetView(req, res),
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
      const data = {
        title: msg('Groups'),
        list,
        ...groupListView,
        canManage,
        canMap: can(actor, 'group.map'),
        newGroup,
      };
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
          res.flash('success', msg('Group {name} created.', { name: group.path }));
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
      const download = await streamAssetsCsv(readDb(ctx, req), actor, filter, {
        signal: leaving.signal,
        tr: requestTranslator(req, res),
      });
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
          res.flash(
            'success',
            renamedAssets
              ? msg(
                  'Group {name} saved. {count, plural, one {# asset now shows} other {# assets now show}} the new path.',
                  { name: group.path, count: renamedAssets },
                )
              : msg('Group {name} saved.', { name: group.path }),
          );
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
          const note = requestTranslator(req, res).t(usersChangedNote(added, removed));
          if (wantsFragment(req))
            return renderGroup(req, res, actor, id, { note: msg('Saved. {note}', { note }), users });
          res.flash('success', msg('Users of the group saved. {note}', { note }));
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
      res.renderPage('groups/map', { title: msg('Map of {name}', { name: map.group.path }), map, tiles });
    }),
  );

  router.get(
    '/groups/:id/map.json',
    ...allow('group.map', async (req, res, actor) => {
      const map = await groupMap(ctx.db, actor, Params.parse(req.params).id);
      // the map's script shows each fix's time as it is given: in the reader's language
      const i18n = requestTranslator(req, res);
      const devices = map.devices.map((d) => ({ ...d, fixLabel: i18n.dateTime(d.locatedAt, actor.timeZone) }));
      res.set('Cache-Control', 'no-store').json({ ...map, devices });
    }),
  );

  return router;
}

/** What changed in a group's users, in words. */
function usersChangedNote(added: { name: string }[], removed: { name: string }[]): Msg {
  const names = (list: { name: string }[]) => list.map((u) => u.name).join(', ');
  if (added.length && removed.length)
    return msg('Added {added}. Removed {removed}.', { added: names(added), removed: names(removed) });
  if (added.length) return msg('Added {added}.', { added: names(added) });
  if (removed.length) return msg('Removed {removed}.', { removed: names(removed) });
  return msg('No change: the users were already these.');
}
