import type { Db } from '../../db/index.js';
import { ValidationError } from '../../errors.js';
import { audit, type Msg } from '../platform/index.js';
import { HELP_LINKS, HELP_LINK_TEXT, helpLinkProblem, type HelpLinkKey, type HelpLinks } from './help-link-rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';

/** The provider's own settings (its Help links so far; later sections keep their own tables). */

const NO_LINKS: HelpLinks = { documentation_url: null, status_page_url: null, chat_url: null, tracking_url: null };

async function readHelpLinks(db: Db, actor: Actor): Promise<HelpLinks> {
  return asActor(db, actor, async (trx) => {
    const row = await trx('tenant_help_links')
      .where({ tenant_id: actor.tenantId })
      .first<HelpLinks | undefined>(...HELP_LINKS);
    return row ?? { ...NO_LINKS };
  });
}

export type HelpLinkView = { key: HelpLinkKey; label: string; description: string; url: string };

/** The Help page: the links the tenant set, in a fixed order; unset ones are left out. */
export async function helpLinksFor(db: Db, actor: Actor): Promise<HelpLinkView[]> {
  authorize(actor, 'help.view');
  const links = await readHelpLinks(db, actor);
  return HELP_LINKS.filter((k) => links[k]).map((k) => ({ key: k, ...HELP_LINK_TEXT[k], url: links[k]! }));
}

export async function helpLinksForm(db: Db, actor: Actor): Promise<HelpLinks> {
  authorize(actor, 'tenant_settings.manage');
  return readHelpLinks(db, actor);
}

export async function saveHelpLinks(db: Db, actor: Actor, input: Record<HelpLinkKey, string>): Promise<void> {
  authorize(actor, 'tenant_settings.manage');
  const errors: Record<string, Msg> = {};
  for (const k of HELP_LINKS) {
    const problem = helpLinkProblem(input[k]);
    if (problem) errors[k] = problem;
  }
  if (Object.keys(errors).length) throw new ValidationError(errors);
  const after = Object.fromEntries(HELP_LINKS.map((k) => [k, input[k].trim() || null])) as HelpLinks;
  await asActor(db, actor, async (trx) => {
    const before =
      (await trx('tenant_help_links')
        .where({ tenant_id: actor.tenantId })
        .first<HelpLinks | undefined>(...HELP_LINKS)) ?? NO_LINKS;
    await trx('tenant_help_links')
      .insert({ tenant_id: actor.tenantId, ...after, updated_at: trx.fn.now() })
      .onConflict('tenant_id')
      .merge();
    await audit(trx, actor, {
      entityType: 'tenant',
      entityId: actor.tenantId,
      action: 'tenant.help_links_changed',
      before,
      after,
    });
  });
}
