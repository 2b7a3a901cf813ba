import type { NextFunction, Request, Response } from 'express';
import { formatDay } from '../../services/assets/index.js';
import { requestLanguage } from '../../web/locale.js';

/**
 * `it.day('2027-03-31')` in the asset and group pages: a calendar day as those pages write it, in the
 * reader's language ("31 March 2027", "31. März 2027"). The language is read when a page is rendered,
 * once the actor (and their choice) is known.
 */
export function setDayLabels(req: Request, res: Response): void {
  res.locals.day ??= (day: string | null | undefined) => formatDay(day, requestLanguage(req, res));
}

export function withDayLabels(req: Request, res: Response, next: NextFunction): void {
  setDayLabels(req, res);
  next();
}
