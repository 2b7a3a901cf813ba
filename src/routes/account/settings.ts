import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formCheckbox, formText, orRerender } from '../../web/forms.js';
import { wantsFragment } from '../../web/render.js';
import { reissueSession } from '../../web/session.js';
import type { Actor } from '../../services/access/index.js';
import {
  changePassword,
  CODE_MINUTES,
  confirmEmailVerification,
  confirmMobileCode,
  endOtherSessions,
  endSession,
  listMembershipsOf,
  listOwnSessions,
  loadProfile,
  MIN_PASSWORD_LENGTH,
  sendEmailVerification,
  sendMobileCode,
  updateProfile,
  verificationState,
} from '../../services/people/index.js';
import { changeNotificationSwitches, NOTIFICATION_KINDS, notificationSwitches } from '../../services/mail/index.js';
import { timeZoneChoicesFor } from '../../services/platform/index.js';
import { LOCALE_NAMES, LOCALES, msg, type Msg } from '../../services/platform/i18n.js';
import { browserLanguage, requestTranslator } from '../../web/locale.js';

/**
 * The signed-in person's own settings: profile, password, their accounts (memberships), notifications,
 * sessions, email and mobile.
 */

const ProfileBody = z.object({ name: formText(), timeZone: formText(), language: formText().optional() });
const PasswordBody = z.object({ current: formText(), password: formText(), passwordConfirm: formText() });
const NotificationsBody = z.object(
  Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, formCheckbox()])) as Record<
    (typeof NOTIFICATION_KINDS)[number],
    ReturnType<typeof formCheckbox>
  >,
);
// :sid is the handle the page shows, never the session id itself
const SessionParams = z.object({ sid: z.string().max(100) });
const TokenParams = z.object({ token: z.string().max(200) });
const MobileBody = z.object({ mobile: formText(100) });
const CodeBody = z.object({ code: formText(20) });

const RULES = msg('At least {min} characters; not a common password and not made from your email address.', {
  min: MIN_PASSWORD_LENGTH,
});

type PageState = {
  profile?: { name: string; timeZone: string; language?: string };
  errors?: Record<string, Msg>;
  sessionsNote?: Msg;
  notifications?: Record<string, boolean>;
};
type MobileState = { values?: Record<string, Msg>; errors?: Record<string, Msg> };

export function settingsRoutes(ctx: AppContext): Router {
  const router = Router();

  /** The whole page, or (for htmx) only the sessions list; a 422 keeps every other section as it is. */
  async function renderSettings(req: Request, res: Response, actor: Actor, state: PageState = {}, status = 200) {
    const [profile, sessions, switches, verification, accounts] = await Promise.all([
      loadProfile(ctx.db, actor),
      listOwnSessions(ctx.db, actor, ctx.clock.now(), req.sessionID),
      notificationSwitches(ctx.db, actor),
      verificationState(ctx.db, actor, ctx.clock.now()),
      // staff viewing as a person see this provider's account only: not the person's other providers
      actor.viewedBy ? null : listMembershipsOf(ctx.db, actor),
    ]);
    res.renderPage(
      'account/settings/index',
      {
        title: msg('Settings'),
        profile,
        values: state.profile ?? profile,
        timeZones: timeZoneChoicesFor(profile.timeZone),
        language: state.profile?.language ?? profile.locale ?? '',
        browserLanguage: LOCALE_NAMES[browserLanguage(req)],
        languages: LOCALES.map((l) => ({ value: l, label: LOCALE_NAMES[l] })),
        rules: RULES,
        errors: state.errors ?? {},
        sessions,
        sessionsNote: state.sessionsNote ?? '',
        verification,
        accounts,
        switches: switches.map((sw) => ({
          ...sw,
          checked: state.notifications ? state.notifications[sw.kind] : sw.enabled,
        })),
      },
      { status, fragment: 'account/settings/_sessions' },
    );
  }

  /** htmx swaps the sessions list in place; a plain form goes back to the page. */
  async function sessionsChanged(req: Request, res: Response, actor: Actor, note: Msg) {
    if (wantsFragment(req)) return renderSettings(req, res, actor, { sessionsNote: note });
    res.flash('success', note);
    res.redirect(303, '/settings');
  }

  router.get('/settings', ...allow('settings.view', (req, res, actor) => renderSettings(req, res, actor)));

  router.post(
    '/settings/profile',
    ...allow('settings.view', async (req, res, actor) => {
      const form = ProfileBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          await updateProfile(ctx.db, actor, form);
          res.flash('success', msg('Your profile has been saved.'));
          res.redirect(303, '/settings');
        },
        (errors, status) => renderSettings(req, res, actor, { profile: form, errors }, status),
      );
    }),
  );

  router.post(
    '/settings/password',
    ...allow('settings.view', async (req, res, actor) => {
      const form = PasswordBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { sessionsEnded } = await changePassword(ctx.db, actor, req.sessionID, form, ctx.clock.now());
          req.log.info({ event: 'password_changed', userId: actor.userId, sessionsEnded }, 'password changed');
          await reissueSession(req, ctx.clock.now());
          res.flash('success', msg('Your password has been changed. Other devices have been signed out.'));
          res.redirect(303, '/settings');
        },
        (errors, status) => renderSettings(req, res, actor, { errors }, status),
      );
    }),
  );

  router.post(
    '/settings/notifications',
    ...allow('settings.view', async (req, res, actor) => {
      const form = NotificationsBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const changed = await changeNotificationSwitches(ctx.db, actor, form);
          res.flash(
            'success',
            changed.length
              ? msg('Your notification choices have been saved.')
              : msg('Nothing changed in your notification choices.'),
          );
          res.redirect(303, '/settings#notifications');
        },
        (errors, status) => renderSettings(req, res, actor, { notifications: form, errors }, status),
      );
    }),
  );

  router.post(
    '/settings/other-sessions/delete',
    ...allow('settings.view', async (req, res, actor) => {
      const ended = await endOtherSessions(ctx.db, actor, req.sessionID, ctx.clock.now());
      await reissueSession(req, ctx.clock.now());
      req.log.info({ event: 'sessions_ended', userId: actor.userId, count: ended }, 'signed out everywhere else');
      const note = ended
        ? msg('{count, plural, one {Signed out # other session.} other {Signed out # other sessions.}}', {
            count: ended,
          })
        : msg('No other session was signed in.');
      await sessionsChanged(req, res, actor, note);
    }),
  );

  router.post(
    '/settings/sessions/:sid/delete',
    ...allow('settings.view', async (req, res, actor) => {
      const { sid } = SessionParams.parse(req.params);
      const { device, viewEndedOf } = await endSession(ctx.db, actor, ctx.clock.now(), sid, req.sessionID);
      req.log.info({ event: 'session_ended', userId: actor.userId }, 'signed out another session');
      const note = viewEndedOf
        ? msg('Ended the view of {name} as you.', { name: viewEndedOf })
        : msg('Signed out the session on {device}.', { device: requestTranslator(req, res).t(device) });
      await sessionsChanged(req, res, actor, note);
    }),
  );

  // ---- confirming the email address: the mailed link opens without a session ----
  router.post(
    '/settings/email-verification',
    ...allow('settings.view', async (_req, res, actor) => {
      const email = await sendEmailVerification(ctx.db, actor, { now: ctx.clock.now(), baseUrl: ctx.config.baseUrl });
      res.flash('success', msg('A confirmation link is on its way to {email}.', { email }));
      res.redirect(303, '/settings#verification');
    }),
  );

  // opening the link only asks (mail scanners open links); the button confirms
  router.get('/settings/email-verification/:token', (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.renderPage('account/settings/email-verification', {
      title: msg('Confirm your email address'),
      token: TokenParams.parse(req.params).token,
    });
  });

  router.post('/settings/email-verification/:token', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const result = await confirmEmailVerification(ctx.db, ctx.clock.now(), TokenParams.parse(req.params).token);
    if (!result.ok)
      return res.renderPage(
        'account/settings/email-verification',
        { title: msg('Link not valid'), invalid: result.reason },
        { status: result.reason === 'unknown' ? 404 : 410 },
      );
    res.renderPage('account/settings/email-verification', { title: msg('Email confirmed'), done: result.email });
  });

  // ---- the mobile number: a code by text message confirms it ----
  const renderMobile = async (res: Response, actor: Actor, form: MobileState = {}, status = 200) => {
    const state = await verificationState(ctx.db, actor, ctx.clock.now());
    res.renderPage(
      'account/settings/mobile',
      {
        title: msg('Your mobile number'),
        state,
        codeMinutes: CODE_MINUTES,
        values: form.values ?? { mobile: state.mobile ?? '' },
        errors: form.errors ?? {},
      },
      { status },
    );
  };

  router.get('/settings/mobile', ...allow('settings.view', (_req, res, actor) => renderMobile(res, actor)));

  router.post(
    '/settings/mobile',
    ...allow('settings.view', async (req, res, actor) => {
      const form = MobileBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const mobile = await sendMobileCode(ctx.db, actor, form, ctx.clock.now());
          res.flash('success', msg('A code is on its way to {mobile}.', { mobile }));
          res.redirect(303, '/settings/mobile');
        },
        (errors, status) => renderMobile(res, actor, { values: form, errors }, status),
      );
    }),
  );

  router.post(
    '/settings/mobile/verification',
    ...allow('settings.view', async (req, res, actor) => {
      const form = CodeBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          await confirmMobileCode(ctx.db, actor, form, ctx.clock.now());
          res.flash('success', msg('Your mobile number is verified.'));
          res.redirect(303, '/settings#verification');
        },
        (errors, status) => renderMobile(res, actor, { errors }, status),
      );
    }),
  );

  return router;
}
