import { Router } from 'express';
import type { AppContext } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import {
  countsText,
  formatDateTime,
  type JobOutcome,
  type JobRunner,
  listJobs,
  runJobNow,
} from '../../services/platform/index.js';

const NO_JOBS: JobRunner = { jobs: [], runNow: async () => null };

function outcomeFlash(name: string, o: JobOutcome): ['success' | 'error' | 'info', string] {
  if (o.outcome === 'skipped')
    return [
      'info',
      `“${name}” is running on another instance right now, so nothing more was started. Its run shows here when it finishes.`,
    ];
  if (o.outcome === 'failed') return ['error', `“${name}” failed: ${o.error}`];
  const did = countsText(o.counts);
  return ['success', `“${name}” finished${did ? `: ${did}` : ''}.`];
}

/** Tenant admins: the deployment's scheduled jobs, their latest runs, and "Run now". */
export function adminJobRoutes(ctx: AppContext): Router {
  const router = Router();
  const jobs = ctx.jobs ?? NO_JOBS;

  router.get('/admin/jobs', ...allow('jobs.view'), async (req, res) => {
    const list = await listJobs(ctx.db, req.actor!, jobs);
    res.renderPage('admin/jobs/index', {
      title: 'Jobs',
      jobs: list,
      formatTime: (d: Date) => formatDateTime(d, req.actor!.timeZone),
    });
  });

  router.post('/admin/jobs/:name/run', ...allow('jobs.run'), async (req, res) => {
    const name = String(req.params.name);
    if (!/^[a-z0-9-]{1,60}$/.test(name)) throw new NotFoundError();
    const outcome = await runJobNow(req.actor!, jobs, name);
    req.log.info(
      { event: 'job_run_by_hand', job: name, outcome: outcome.outcome, userId: req.actor!.userId },
      'job run by hand',
    );
    ctx.mailPump.kick(); // a job may have queued mail
    res.flash(...outcomeFlash(name, outcome));
    res.redirect(303, `/admin/jobs#job-${name}`);
  });

  return router;
}
