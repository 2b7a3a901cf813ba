import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { ValidationError } from '../errors.js';
import { allow } from '../web/auth.js';
import { wantsFragment } from '../web/render.js';
import {
  ASSET_PAGE_SIZES,
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
  GROUP_PAGE_SIZES,
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
import { can } from '../services/access/index.js';
import { formText } from '../web/forms.js';

/** The Groups page, a group's page with its assets and users, creating and editing groups, and the devices map. */

const text = (max: number) => formText().transform((v) => v.slice(0, max));
const GroupBody = z.object({
  name: text(1000),
  reference: text(1000),
  parent_id: text(100),
  customer_id: text(100),
  enabled: text(10),
});
const idOf = (req: Request) => String(req.params.id ?? '');
const numbers = new Intl.NumberFormat('en-GB');
const assetView = {
  tabs: ASSET_TABS,
  tabLabels: ASSET_TAB_LABELS,
  pageSizes: ASSET_PAGE_SIZES,
  href: assetListHref,
  formatNumber: (n: number) => numbers.format(n),
};

/** A checkbox sends its value only when ticked: on the edit form no value means off; a new group starts enabled. */
const groupForm = (body: z.infer<typeof GroupBody>, hasEnabled: boolean): GroupForm => ({
  ...body,
  enabled: hasEnabled ? body.enabled === 'on' : true,
});

export function groupRoutes(ctx: AppContext): Router {
  const router = Router();
  const today = (req: Request) => todayIn(req.actor!.timeZone, ctx.clock.now());
  /** what the map buttons and the map need to draw: Leaflet's files are in the layout's assets; tiles from the configuration */
  const tiles = { url: ctx.config.mapTileUrl ?? '', attribution: ctx.config.mapTileAttribution };

  const renderNew = async (
    req: Request,
    res: Response,
    values: Partial<GroupForm>,
    errors: Record<string, string> = {},
    status = 200,
  ) => {
    const choices = await newGroupChoices(ctx.db, req.actor!);
    res.renderPage('groups/new', { title: 'Create a group', ...choices, values, errors }, { status });
  };

  const renderEdit = async (
    req: Request,
    res: Response,
    values?: GroupForm,
    errors: Record<string, string> = {},
    status = 200,
  ) => {
    const { group, parents } = await groupForEdit(ctx.db, req.actor!, idOf(req));
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
  const renderGroup = async (
    req: Request,
    res: Response,
    extra: { note?: string; errors?: Record<string, string>; users?: GroupUsers; status?: number } = {},
  ) => {
    const actor = req.actor!;
    const canAssign = can(actor, 'group.assign_users');
    const options = canAssign ? await assignableUsers(ctx.db, actor, idOf(req)) : [];
    const section = { canAssign, options, note: extra.note ?? '', errors: extra.errors ?? {}, tiles };
    if (extra.users && wantsFragment(req)) {
      const { group } = await getGroupUsers(ctx.db, actor, idOf(req));
      return res.renderPage('groups/_users', { group, users: extra.users, ...section }, { status: extra.status });
    }
    const detail = await getGroup(ctx.db, actor, idOf(req), today(req));
    const list = await listAssets(ctx.db, actor, {
      ...assetFilterFrom(req.query, today(req)),
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

  router.get('/groups', ...allow('group.view'), async (req, res) => {
    const actor = req.actor!;
    const list = await listGroups(ctx.db, actor, groupListQueryFrom(req.query), today(req));
    const canManage = can(actor, 'group.manage');
    const newGroup = canManage ? await newGroupChoices(ctx.db, actor) : null;
    res.renderPage(
      'groups/index',
      {
        title: 'Groups',
        list,
        tabs: GROUP_TABS,
        tabLabels: GROUP_TAB_LABELS,
        pageSizes: GROUP_PAGE_SIZES,
        href: groupListHref,
        canManage,
        canMap: can(actor, 'group.map'),
        newGroup,
        tiles,
      },
      { fragment: 'groups/_list' },
    );
  });

  router.get('/groups/new', ...allow('group.manage'), (req, res) => {
    const parent = typeof req.query.parent === 'string' ? req.query.parent.slice(0, 100) : '';
    return renderNew(req, res, { parent_id: parent, customer_id: req.actor!.customerId ?? '' });
  });

  router.post('/groups', ...allow('group.manage'), async (req, res) => {
    const form = groupForm(GroupBody.parse(req.body ?? {}), false);
    try {
      const group = await createGroup(ctx.db, req.actor!, form);
      res.flash('success', `Group ${group.path} created.`);
      res.redirect(303, `/groups/${group.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderNew(req, res, form, err.fields, 422);
    }
  });

  // before /groups/:id, which would take "x.csv" for an id
  router.get('/groups/:id.csv', ...allow('group.view'), async (req, res) => {
    const leaving = new AbortController();
    res.on('close', () => leaving.abort());
    const group = await getGroupHeader(ctx.db, req.actor!, idOf(req));
    const filter = { ...assetFilterFrom(req.query, today(req)), groupId: group.id };
    const { filename, stream } = await streamAssetsCsv(ctx.db, req.actor!, filter, { signal: leaving.signal });
    res.set('Content-Disposition', `attachment; filename="${filename}"`).type('text/csv; charset=utf-8');
    await pipeline(stream, res).catch((err: { code?: string }) => {
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
    });
  });

  router.get('/groups/:id', ...allow('group.view'), (req, res) => renderGroup(req, res));

  router.get('/groups/:id/edit', ...allow('group.manage'), (req, res) => renderEdit(req, res));

  router.post('/groups/:id', ...allow('group.manage'), async (req, res) => {
    const form = groupForm(GroupBody.parse(req.body ?? {}), true);
    try {
      const { group, renamedAssets } = await updateGroup(ctx.db, req.actor!, idOf(req), form);
      const assets = renamedAssets
        ? ` ${numbers.format(renamedAssets)} asset${renamedAssets === 1 ? '' : 's'} now show the new path.`
        : '';
      res.flash('success', `Group ${group.path} saved.${assets}`);
      res.redirect(303, `/groups/${group.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderEdit(req, res, form, err.fields, 422);
    }
  });

  router.post('/groups/:id/users', ...allow('group.assign_users'), async (req, res) => {
    const ids = submittedIds((req.body as Record<string, unknown> | undefined)?.user_ids);
    try {
      const { users, added, removed } = await setGroupUsers(ctx.db, req.actor!, idOf(req), ids);
      const names = (list: { name: string }[]) => list.map((u) => u.name).join(', ');
      const note =
        [added.length ? `Added ${names(added)}.` : '', removed.length ? `Removed ${names(removed)}.` : '']
          .filter(Boolean)
          .join(' ') || 'No change: the users were already these.';
      if (wantsFragment(req)) return renderGroup(req, res, { note: `Saved. ${note}`, users });
      res.flash('success', `Users of the group saved. ${note}`);
      res.redirect(303, `/groups/${idOf(req)}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const { users } = await getGroupUsers(ctx.db, req.actor!, idOf(req));
      await renderGroup(req, res, { errors: err.fields, users, status: 422 });
    }
  });

  router.get('/groups/:id/user-options', ...allow('group.assign_users'), async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q : '';
    const chosen = submittedIds(req.query.user_ids) ?? [];
    const result = await userOptions(ctx.db, req.actor!, idOf(req), { q, chosen });
    res.renderPage('groups/_user-options', result);
  });

  router.get('/groups/:id/map', ...allow('group.map'), async (req, res) => {
    const map = await groupMap(ctx.db, req.actor!, idOf(req));
    res.renderPage('groups/map', { title: `Map of ${map.group.path}`, map, tiles });
  });

  router.get('/groups/:id/map.json', ...allow('group.map'), async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await groupMap(ctx.db, req.actor!, idOf(req)));
  });

  return router;
}
