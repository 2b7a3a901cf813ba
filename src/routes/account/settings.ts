import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { formText } from '../../web/forms.js';
import type { AppContext } from '../../context.js';
import { ValidationError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import { wantsFragment } from '../../web/render.js';
import {
  changePassword,
  endOtherSessions,
  endSession,
  listOwnSessions,
  loadProfile,
  MIN_PASSWORD_LENGTH,
  updateProfile,
  verificationState,
} from '../../services/people/index.js';
import { changeNotificationSwitches, NOTIFICATION_KINDS, notificationSwitches } from '../../services/mail/index.js';
import { formatDateTime, timeZoneChoicesFor } from '../../services/platform/index.js';

const ProfileForm = z.object({ name: formText(), timeZone: formText() });
const PasswordForm = z.object({
  current: formText(),
  password: formText(),
  passwordConfirm: formText(),
});
const SessionParams = z.object({ sid: z.string().max(100) });

const RULES = `At least ${MIN_PASSWORD_LENGTH} characters; not a common password and not made from your email address.`;

type PageState = {
  profile?: { name: string; timeZone: string };
  errors?: Record<string, string>;
  sessionsNote?: string;
  notifications?: Record<string, boolean>;
};

/** A checked box sends its name; an unchecked one sends nothing. */
const notificationForm = (body: unknown): Record<string, boolean> =>
  Object.fromEntries(
    NOTIFICATION_KINDS.map((k) => [
      k,
      typeof body === 'object' && body !== null && (body as Record<string, unknown>)[k] === 'on',
    ]),
  );

/** The signed-in user's own settings: profile, password and sessions. */
export function settingsRoutes(ctx: AppContext): Router {
  const router = Router();
  const guard = allow('settings.view');

  /** The whole page, or (for htmx) only the sessions list; a 422 keeps every other section as it is. */
  async function renderSettings(req: Request, res: Response, state: PageState = {}, status = 200) {
    const actor = req.actor!;
    const [profile, sessions, switches, verification] = await Promise.all([
      loadProfile(ctx.db, actor),
      listOwnSessions(ctx.db, actor, ctx.clock.now(), req.sessionID),
      notificationSwitches(ctx.db, actor),
      verificationState(ctx.db, actor, ctx.clock.now()),
    ]);
    res.renderPage(
      'account/settings/index',
      {
        title: 'Settings',
        profile,
        values: state.profile ?? profile,
        timeZones: timeZoneChoicesFor(profile.timeZone),
        rules: RULES,
        errors: state.errors ?? {},
        sessions,
        sessionsNote: state.sessionsNote ?? '',
        verification,
        switches: switches.map((sw) => ({
          ...sw,
          checked: state.notifications ? state.notifications[sw.kind] : sw.enabled,
        })),
        formatTime: (d: Date | null) => formatDateTime(d, actor.timeZone),
      },
      { status, fragment: 'account/settings/_sessions' },
    );
  }

  router.get('/settings', ...guard, (req, res) => renderSettings(req, res));

  router.post('/settings/profile', ...guard, async (req, res) => {
    const form = ProfileForm.parse(req.body ?? {});
    try {
      await updateProfile(ctx.db, req.actor!, form);
    } catch (err) {
      if (err instanceof ValidationError) return renderSettings(req, res, { profile: form, errors: err.fields }, 422);
      throw err;
    }
    res.flash('success', 'Your profile has been saved.');
    res.redirect(303, '/settings');
  });

  router.post('/settings/password', ...guard, async (req, res) => {
    const form = PasswordForm.parse(req.body ?? {});
    try {
      const { sessionsEnded } = await changePassword(ctx.db, req.actor!, req.sessionID, form, ctx.clock.now());
      req.log.info({ event: 'password_changed', userId: req.actor!.userId, sessionsEnded }, 'password changed');
    } catch (err) {
      if (err instanceof ValidationError) return renderSettings(req, res, { errors: err.fields }, 422);
      throw err;
    }
    await renewSessionId(req, ctx.clock.now());
    res.flash('success', 'Your password has been changed. Other devices have been signed out.');
    res.redirect(303, '/settings');
  });

  router.post('/settings/notifications', ...guard, async (req, res) => {
    const form = notificationForm(req.body);
    let changed;
    try {
      changed = await changeNotificationSwitches(ctx.db, req.actor!, form);
    } catch (err) {
      if (err instanceof ValidationError)
        return renderSettings(req, res, { notifications: form, errors: err.fields }, 422);
      throw err;
    }
    res.flash(
      'success',
      changed.length ? 'Your notification choices have been saved.' : 'Nothing changed in your notification choices.',
    );
    res.redirect(303, '/settings#notifications');
  });

  router.post('/settings/other-sessions/delete', ...guard, async (req, res) => {
    const ended = await endOtherSessions(ctx.db, req.actor!, req.sessionID);
    req.log.info({ event: 'sessions_ended', userId: req.actor!.userId, count: ended }, 'signed out everywhere else');
    await sessionsChanged(
      req,
      res,
      ended ? `Signed out ${ended} other session${ended === 1 ? '' : 's'}.` : 'No other session was signed in.',
    );
  });

  router.post('/settings/sessions/:sid/delete', ...guard, async (req, res) => {
    // :sid is the handle the page shows, never the session id itself
    const { sid } = SessionParams.parse(req.params);
    const { device } = await endSession(ctx.db, req.actor!, ctx.clock.now(), sid, req.sessionID);
    req.log.info({ event: 'session_ended', userId: req.actor!.userId }, 'signed out another session');
    await sessionsChanged(req, res, `Signed out the session on ${device}.`);
  });

  /** htmx swaps the sessions list in place; a plain form goes back to the page. */
  async function sessionsChanged(req: Request, res: Response, note: string) {
    if (wantsFragment(req)) return renderSettings(req, res, { sessionsNote: note });
    res.flash('success', note);
    res.redirect(303, '/settings');
  }

  return router;
}

/** A new session id after a password change, so a stolen copy of the old cookie stops working too. */
export async function renewSessionId(req: Request, now: Date): Promise<void> {
  const { userId, membershipId, createdAt, userAgent } = req.session;
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  Object.assign(req.session, { userId, membershipId, createdAt, lastSeenAt: now.getTime(), userAgent });
}
