import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const { app } = testApp({ db });
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const newUser = (fields: Parameters<typeof makeUser>[2] = {}) =>
  makeUser(db, { tenantId: tenant.id, role: 'group_supervisor', customerId: customer.id }, fields);

const NEW_PASSWORD = 'another long passphrase';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

type Agent = ReturnType<typeof supertest.agent>;

/** Signs in with a given browser, as a person would on another device. */
async function signInWith(email: string, userAgent: string): Promise<{ agent: Agent; csrf: string }> {
  const agent = supertest.agent(app).set('User-Agent', userAgent);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(303);
  return { agent, csrf: csrfFrom((await agent.get('/settings')).text) };
}

async function post(agent: Agent, path: string, form: Record<string, string>) {
  const page = await agent.get('/settings');
  return agent
    .post(path)
    .type('form')
    .send({ ...form, _csrf: csrfFrom(page.text) });
}

const signOutIds = (html: string) =>
  [...html.matchAll(/action="\/settings\/sessions\/([0-9a-f]+)\/delete"/g)].map((m) => m[1]!);

async function isSignedIn(agent: Agent) {
  return (await agent.get('/settings')).status === 200;
}

describe('the settings page', () => {
  it('sends an anonymous visitor to sign in', async () => {
    const res = await supertest(app).get('/settings');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fsettings');
  });

  it('shows the profile with the current time zone selected, the password rules and the sessions', async () => {
    const user = await newUser({ name: 'Petra Pike' });
    await db('users').where({ id: user.id }).update({ time_zone: 'Europe/Paris' });
    const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
    const res = await agent.get('/settings');
    expect(res.status).toBe(200);
    expect(res.text).toContain('value="Petra Pike"');
    expect(res.text).toContain('<option value="Europe/Paris" selected>Europe/Paris</option>');
    expect(res.text).toContain('At least 12 characters');
    expect(res.text).toContain('Your sessions');
    expect(res.text).toContain('This device');
  });
});

describe('editing the profile', () => {
  it('saves the name and time zone, and then shows times in the new zone', async () => {
    const user = await newUser();
    const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
    expect((await agent.get('/settings')).text).toMatch(/<time [^>]*>[^<]* UTC<\/time>/);
    const res = await post(agent, '/settings/profile', { name: 'Tomoko Ito', timeZone: 'Asia/Tokyo' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings');
    const page = await agent.get('/settings');
    expect(page.text).toContain('Your profile has been saved.');
    expect(page.text).toContain('<option value="Asia/Tokyo" selected>');
    expect(page.text).toMatch(/<time [^>]*>[^<]* GMT\+9<\/time>/);
    expect(page.text).not.toMatch(/<time [^>]*>[^<]* UTC<\/time>/);
    const audit = await db('audit_log').where({ entity_id: user.id, action: 'user.updated' }).first('after');
    expect(audit.after).toEqual({ name: 'Tomoko Ito', timeZone: 'Asia/Tokyo', language: null });
  });

  it(
    'refuses an unknown time zone or an empty name with 422, next to the field, ' + 'and keeps the other sections',
    async () => {
      const user = await newUser({ name: 'Kept Name' });
      const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
      const res = await post(agent, '/settings/profile', { name: 'Typed Name', timeZone: 'Mars/Olympus_Mons' });
      expect(res.status).toBe(422);
      expect(res.text).toMatch(/id="f-timeZone-error">Choose a time zone from the list/);
      expect(res.text).toContain('value="Typed Name"');
      expect(res.text).toContain('Current password');
      expect(res.text).toContain('Your sessions');
      const empty = await post(agent, '/settings/profile', { name: '  ', timeZone: 'UTC' });
      expect(empty.status).toBe(422);
      expect(empty.text).toMatch(/id="f-name-error">Enter your name/);
      expect(await db('users').where({ id: user.id }).first('name', 'time_zone')).toEqual({
        name: 'Kept Name',
        time_zone: 'UTC',
      });
    },
  );
});

describe('changing the password', () => {
  it('requires the current password, and refuses a new one equal to it or unconfirmed', async () => {
    const user = await newUser();
    const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
    const wrong = await post(agent, '/settings/password', {
      current: 'not my password',
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toMatch(/id="f-current-error">This is not your current password/);
    expect(wrong.text).toContain('Your sessions');
    const same = await post(agent, '/settings/password', {
      current: TEST_PASSWORD,
      password: TEST_PASSWORD,
      passwordConfirm: TEST_PASSWORD,
    });
    expect(same.status).toBe(422);
    expect(same.text).toMatch(/id="f-password-error">Choose a password different/);
    const unconfirmed = await post(agent, '/settings/password', {
      current: TEST_PASSWORD,
      password: NEW_PASSWORD,
      passwordConfirm: 'something else entirely',
    });
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.text).toMatch(/id="f-passwordConfirm-error">The two passwords do not match/);
    const common = await post(agent, '/settings/password', {
      current: TEST_PASSWORD,
      password: 'password1234',
      passwordConfirm: 'password1234',
    });
    expect(common.status).toBe(422);
    expect(common.text).toMatch(/id="f-password-error">This password is too common/);
  });

  it('ends the other sessions but keeps this one, and the new password signs in', async () => {
    const user = await newUser();
    const here = await signInWith(user.email, FIREFOX);
    const there = await signInWith(user.email, CHROME);
    const res = await post(here.agent, '/settings/password', {
      current: TEST_PASSWORD,
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    });
    expect(res.status).toBe(303);
    const page = await here.agent.get('/settings');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Your password has been changed.');
    expect(await isSignedIn(there.agent)).toBe(false);
    const again = supertest.agent(app);
    const login = await again.get('/login');
    expect(
      (
        await again
          .post('/login')
          .type('form')
          .send({ email: user.email, password: NEW_PASSWORD, _csrf: csrfFrom(login.text) })
      ).status,
    ).toBe(303);
    expect(await db('audit_log').where({ entity_id: user.id, action: 'user.password_changed' }).first('after')).toEqual(
      { after: { otherSessionsEnded: 1 } },
    );
  });

  it('locks the form after five wrong current passwords in a row', async () => {
    const user = await newUser();
    const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await post(agent, '/settings/password', {
            current: `wrong ${i}`,
            password: NEW_PASSWORD,
            passwordConfirm: NEW_PASSWORD,
          })
        ).status,
      ).toBe(422);
    }
    const locked = await post(agent, '/settings/password', {
      current: TEST_PASSWORD,
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    });
    expect(locked.status).toBe(429);
    expect(locked.text).toMatch(/Try again in \d+ minutes/);
  });
});

describe('your sessions', () => {
  it('lists two sessions after two sign-ins, and signing the other out with htmx ends it', async () => {
    const user = await newUser();
    const here = await signInWith(user.email, FIREFOX);
    const there = await signInWith(user.email, CHROME);
    const page = await here.agent.get('/settings');
    expect(page.text).toContain('Firefox on Windows');
    expect(page.text).toContain('Chrome on Linux');
    expect(page.text.match(/This device/g)).toHaveLength(1);
    const ids = signOutIds(page.text);
    expect(ids).toHaveLength(1);

    const res = await here.agent
      .post(`/settings/sessions/${ids[0]}/delete`)
      .set({ 'HX-Request': 'true', 'X-CSRF-Token': here.csrf });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<html');
    expect(res.text).toContain('id="sessions"');
    expect(res.text).toContain('Signed out the session on Chrome on Linux.');
    expect(res.text).not.toContain('Chrome on Linux</span>');

    const sent = await there.agent.get('/settings');
    expect(sent.status).toBe(303);
    expect(sent.headers.location).toBe('/login?next=%2Fsettings');
    expect(await isSignedIn(here.agent)).toBe(true);
  });

  it('works without JavaScript: a plain form post goes back to the settings page', async () => {
    const user = await newUser();
    const here = await signInWith(user.email, FIREFOX);
    const there = await signInWith(user.email, CHROME);
    const [id] = signOutIds((await here.agent.get('/settings')).text);
    const res = await post(here.agent, `/settings/sessions/${id}/delete`, {});
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings');
    expect((await here.agent.get('/settings')).text).toContain('Signed out the session on Chrome on Linux.');
    expect(await isSignedIn(there.agent)).toBe(false);
  });

  it('signs out everywhere else at once', async () => {
    const user = await newUser();
    const here = await signInWith(user.email, FIREFOX);
    const others = [await signInWith(user.email, CHROME), await signInWith(user.email, CHROME)];
    const res = await here.agent
      .post('/settings/other-sessions/delete')
      .set({ 'HX-Request': 'true', 'X-CSRF-Token': here.csrf });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Signed out 2 other sessions.');
    for (const o of others) expect(await isSignedIn(o.agent)).toBe(false);
    expect(await isSignedIn(here.agent)).toBe(true);
  });

  it("cannot end another user's session: it is not found", async () => {
    const owner = await newUser();
    const ownerHere = await signInWith(owner.email, FIREFOX);
    const ownerThere = await signInWith(owner.email, CHROME);
    const [id] = signOutIds((await ownerHere.agent.get('/settings')).text);

    const intruder = await newUser();
    const { agent } = await signedInAgent(app, intruder.email, TEST_PASSWORD);
    const res = await post(agent, `/settings/sessions/${id}/delete`, {});
    expect(res.status).toBe(404);
    expect(await isSignedIn(ownerThere.agent)).toBe(true);
  });

  it('never puts a session id on the page', async () => {
    const user = await newUser();
    const here = await signInWith(user.email, FIREFOX);
    await signInWith(user.email, CHROME);
    const sids: string[] = await db('session').where({ user_id: user.id }).pluck('sid');
    const page = await here.agent.get('/settings');
    for (const sid of sids) expect(page.text).not.toContain(sid);
  });
});
