import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { countsText } from '../../src/services/platform/job-runs.js';
import { readUnsubscribeToken, unsubscribeHeaders, unsubscribeToken } from '../../src/services/mail/notifications.js';
import type { ReminderLine } from '../../src/services/assets/renewal-reminders.js';
import { reminderMail } from '../../src/services/assets/reminder-mail.js';

const SECRET = 'a-secret-that-is-long-enough-for-anything';
const USER = '0b6f3c1e-8a2d-4f5b-9c7e-1d2e3f4a5b6c';

describe('unsubscribe links', () => {
  it('carry the person and the kind, signed, in 45 URL-safe characters', () => {
    const token = unsubscribeToken(SECRET, USER, 'ticket_updates');
    expect(token).toMatch(/^[A-Za-z0-9_-]{45}$/);
    expect(readUnsubscribeToken(SECRET, token)).toEqual({ userId: USER, kind: 'ticket_updates' });
  });

  it('are refused when altered, made up, or signed with another secret', () => {
    const token = unsubscribeToken(SECRET, USER, 'renewal_reminders');
    const flipped = token.slice(0, 22) + (token[22] === 'A' ? 'Q' : 'A') + token.slice(23); // the kind's byte
    expect(readUnsubscribeToken(SECRET, flipped)).toBeNull();
    expect(readUnsubscribeToken(SECRET, 'x'.repeat(45))).toBeNull();
    expect(readUnsubscribeToken('another-secret-that-is-long-enough!!', token)).toBeNull();
    expect(readUnsubscribeToken(SECRET, token + 'A')).toBeNull();
  });

  it('come with the one-click headers of RFC 8058', () => {
    const headers = unsubscribeHeaders({ baseUrl: 'https://portal.test', secret: SECRET }, USER, 'renewal_reminders');
    expect(headers).toEqual({
      'List-Unsubscribe': `<https://portal.test/unsubscribe/${unsubscribeToken(SECRET, USER, 'renewal_reminders')}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });
});

describe('the reminder mail', () => {
  const line = (i: number, via: 0 | 1 = 0): ReminderLine => ({
    assetId: `id-${i}`,
    identifier: `ID-${i}`,
    name: '',
    groupPath: 'Trucks',
    customer: 'Acme',
    plan: 'yearly',
    renewalOn: '2027-01-10',
    via,
    viaName: via ? 'Trucks' : 'Acme',
  });
  const links = { baseUrl: 'https://portal.test', secret: SECRET };

  it('gives every reason the person has, once each', () => {
    const mail = reminderMail(
      { name: 'Olga', userId: USER, tenantName: 'Fleetline' },
      [line(1), line(2, 1)],
      '2027-01-03',
      links,
    );
    expect(mail.text).toContain('As a company admin of Acme:');
    expect(mail.text).toContain('As a person assigned to the group Trucks:');
    expect(mail.text).toContain(
      'Why you get this mail: you are a company admin of Acme, and you are assigned to the group Trucks.',
    );
    expect(mail.text).toContain('renews on 10 January 2027 (in 7 days)');
  });

  it('lists a long list only up to 200 assets and points to the asset list for the rest', () => {
    const lines = Array.from({ length: 205 }, (_, i) => line(i));
    const mail = reminderMail({ name: 'Olga', userId: USER, tenantName: 'Fleetline' }, lines, '2027-01-03', links);
    expect(mail.subject).toBe('Renewal reminder: 205 subscriptions renew within 4 weeks');
    expect(mail.text.match(/^- ID-/gm)).toHaveLength(200);
    expect(mail.text).toContain('…and 5 more. The asset list shows them all: https://portal.test/assets?tab=active');
  });
});

describe('job schedules from the environment', () => {
  it('moves a job with JOB_SCHEDULE_<NAME>', () => {
    const config = loadConfig({
      SESSION_SECRET: SECRET,
      JOB_SCHEDULE_RENEWAL_REMINDERS: '*/2 * * * * *',
      DATA_DIR: '/tmp',
    });
    expect(config.jobSchedules).toEqual({ 'renewal-reminders': '*/2 * * * * *' });
  });

  it('stops start-up with one line when the expression is not cron', () => {
    expect(() =>
      loadConfig({ SESSION_SECRET: SECRET, JOB_SCHEDULE_SEND_MAIL: 'every minute', DATA_DIR: '/tmp' }),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig({ SESSION_SECRET: SECRET, JOB_SCHEDULE_SEND_MAIL: 'every minute', DATA_DIR: '/tmp' }),
    ).toThrow('Invalid JOB_SCHEDULE_SEND_MAIL="every minute": must be a cron expression');
  });
});

describe('what a job run did, in words', () => {
  it('names each count, batches last', () => {
    expect(countsText({ batches: 200, rolled_over: 3, renewed: 12 })).toBe('12 renewed, 3 rolled over, 200 batches');
    expect(countsText({})).toBe('');
  });
});
