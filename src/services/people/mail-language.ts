import type { Db, Trx } from '../../db/index.js';
import { isLocale, recipientLocale, translator, type Translator } from '../platform/i18n.js';

/** Texts, dates and numbers for a mail to this login: in their chosen language, else their browser's, else English. */
export async function translatorForUser(db: Db | Trx, userId: string): Promise<Translator> {
  const row = await db('users as u')
    .where('u.id', userId)
    .first<{ locale: string } | undefined>(db.raw(`${recipientLocale('u')} as locale`));
  return translator(isLocale(row?.locale) ? row.locale : 'en');
}
