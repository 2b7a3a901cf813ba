import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import { formText } from '../../web/forms.js';
import { msg, type Msg } from '../../services/platform/i18n.js';
import { countsText, type JobOutcome, type JobRunner, listJobs, runJobNow } from '../../services/platform/index.js';

/** The deployment operator: the scheduled jobs, their latest runs across every tenant, and "Run now". */

// a name that cannot be a job's is as unknown as one that is not there (checked by the handler: 404)
const Params = z.object({ name: formText().transform((v) => (/^[a-z0-9-]{1,60}$/.test(v) ? v : null)) });

const NO_JOBS: JobRunner = { jobs: [], runNow: async () => null };

function outcomeFlash(name: string, o: JobOutcome): ['success' | 'error' | 'info', Msg] {
  if (o.outcome === 'skipped')
    return [
      'info',
      msg(
        '“{name}” is running on another instance right now, so nothing more was started. Its run shows here when it finishes.',
        { name },
      ),
    ];
  if (o.outcome === 'failed') return ['error', msg('“{name}” failed: {error}', { name, error: o.error })];
  const did = countsText(o.counts);
  return ['success', did ? msg('“{name}” finished: {did}.', { name, did }) : msg('“{name}” finished.', { name })];
}

export function operatorJobRoutes(ctx: AppContext): Router {
  const router = Router();
  const jobs = ctx.jobs ?? NO_JOBS;

  router.get(
    '/operator/jobs',
    ...allow('operator.jobs', async (_req, res, actor) => {
      const list = await listJobs(ctx.db, actor, jobs);
      res.renderPage('operator/jobs/index', {
        title: msg('Jobs'),
        jobs: list,
      });
    }),
  );

  router.post(
    '/operator/jobs/:name/run',
    ...allow('operator.jobs', async (req, res, actor) => {
      const { name } = Params.parse(req.params);
      if (!name) throw new NotFoundError();
      const outcome = await runJobNow(actor, jobs, name);
      const event = { event: 'job_run_by_hand', job: name, outcome: outcome.outcome, userId: actor.userId };
      req.log.info(event, 'job run by hand');
      res.flash(...outcomeFlash(name, outcome));
      res.redirect(303, `/operator/jobs#job-${name}`);
    }),
  );

  return router;
}
