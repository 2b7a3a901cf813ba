import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const fleetId = demoId('user:fleet@northwind.test');
const flags = () => db('users').where({ id: fleetId }).first('email_verified', 'mobile', 'mobile_verified');

describe('a customer verifies their own email and mobile', () => {
  it('confirms the email address through the mailed link, after pressing the button', async () => {
    const fleet = await signedInAgent(app, 'fleet@northwind.test');
    expect(
      (await fleet.agent.post('/settings/email-verification').type('form').send({ _csrf: fleet.csrf })).status,
    ).toBe(303);
    const mail = await db('outbox')
      .where({ recipient: 'fleet@northwind.test', kind: 'email_verification' })
      .first('body_text');
    const path = /https?:\/\/[^\s]+(\/settings\/email-verification\/[A-Za-z0-9_-]+)/.exec(mail.body_text)![1]!;
    // opening the link changes nothing (mail scanners open links)
    const anyone = supertest.agent(app);
    const page = await anyone.get(path);
    expect(page.status).toBe(200);
    expect((await flags())!.email_verified).toBe(false);
    const done = await anyone
      .post(path)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    expect(done.status).toBe(200);
    expect(done.text).toContain('Email confirmed');
    expect((await flags())!.email_verified).toBe(true);
    expect(
      (
        await anyone
          .post(path)
          .type('form')
          .send({ _csrf: csrfFrom(page.text) })
      ).status,
    ).toBe(410);
  });

  it(
    'texts a code through the SMS channel, kept on the outgoing messages page, ' + 'and verifies the mobile with it',
    async () => {
      const fleet = await signedInAgent(app, 'fleet@northwind.test');
      const sent = await fleet.agent
        .post('/settings/mobile')
        .type('form')
        .send({ _csrf: fleet.csrf, mobile: '+44 7700 900777' });
      expect(sent.status).toBe(303);
      const sms = await db('outbox').where({ recipient: '+44 7700 900777' }).first('channel', 'status', 'body_text');
      expect(sms).toMatchObject({ channel: 'sms', status: 'kept' });
      const code = /\b(\d{6})\b/.exec(sms.body_text)![1]!;

      const admin = await signedInAgent(app, 'admin@demo.test');
      const outgoing = await admin.agent.get('/admin/mail');
      expect(outgoing.text).toContain('+44 7700 900777');
      expect(outgoing.text).toContain('SMS');

      const wrong = await fleet.agent
        .post('/settings/mobile/verification')
        .type('form')
        .send({ _csrf: fleet.csrf, code: code === '000000' ? '111111' : '000000' });
      expect(wrong.status).toBe(422);
      expect((await flags())!.mobile_verified).toBe(false);
      const right = await fleet.agent
        .post('/settings/mobile/verification')
        .type('form')
        .send({ _csrf: fleet.csrf, code });
      expect(right.status).toBe(303);
      expect(await flags()).toMatchObject({ mobile: '+44 7700 900777', mobile_verified: true });
      expect((await fleet.agent.get('/settings')).text).toMatch(
        /\+44 7700 900777 <span class="badge badge-active">Verified/,
      );
    },
  );
});
