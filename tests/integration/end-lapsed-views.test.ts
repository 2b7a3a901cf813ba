import type supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { endLapsedViewsJob } from '../../src/jobs/end-lapsed-views.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { endLapsedViews } from '../../src/services/people/index.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * A "view as" ends by itself after 30 minutes; the end-lapsed-views job writes that end in the customer's
 * audit log even when the staff member makes no further request, and exactly once whether the job or the
 * staff member's next request comes first, or a request in flight stores the view back after the job.
 */

const { db } = await testDatabase();
// the session rows expire by the real clock (the cookie's date): the app's clock starts from it
const clock = fixedClock(new Date().toISOString());
const { app } = testApp({ db, clock });
const tenant = await makeTenant(db);
const acme = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const support = await makeUser(db, { tenantId: tenant.id, role: 'support_agent' }, { name: 'Sam Support' });

type Agent = ReturnType<typeof supertest.agent>;

let people = 0;
const newPerson = () =>
  makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: acme.id }, { name: `Lapsed ${++people}` });

const endsOf = (userId: string) =>
  db('audit_log')
    .where({ entity_type: 'user', entity_id: userId, action: 'user.view_as_ended' })
    .select('actor_label', 'customer_id', 'after');

async function startView(personId: string): Promise<{ agent: Agent; sid: string }> {
  const { agent, csrf } = await signedInAgent(app, support.email, TEST_PASSWORD);
  const res = await agent
    .post(`/admin/customers/${acme.id}/users/${personId}/view-as`)
    .type('form')
    .send({ _csrf: csrf });
  expect(res.status).toBe(303);
  const home = await agent.get('/assets');
  expect(home.text).toContain('Viewing as');
  const row = await db('session')
    .where({ user_id: support.id })
    .whereRaw("sess->'viewAs'->>'userId' = ?", [personId])
    .first<{ sid: string }>('sid');
  return { agent, sid: row!.sid };
}

/** Whether some session of the staff member still holds a view of the person (a request's end renews the id). */
const stillViewing = async (personId: string): Promise<boolean> =>
  Boolean(
    await db('session')
      .where({ user_id: support.id })
      .whereRaw("sess->'viewAs'->>'userId' = ?", [personId])
      .first('sid'),
  );

describe('the end-lapsed-views job', () => {
  it('leaves a view that still counts alone', async () => {
    const person = await newPerson();
    await startView(person.id);
    clock.advance(29 * 60_000);
    await endLapsedViews(db, clock.now());
    expect(await endsOf(person.id)).toEqual([]);
    expect(await stillViewing(person.id)).toBe(true);
    clock.advance(2 * 60_000); // lapse it, so it does not stay for the next tests
    await endLapsedViews(db, clock.now());
  });

  it('ends a lapsed view nobody comes back to, once, as a recorded job run', async () => {
    const person = await newPerson();
    const { agent } = await startView(person.id);
    clock.advance(30 * 60_000);
    const first = await runJob(endLapsedViewsJob, { db, clock, mail: null });
    expect(first.ran).toBe(true);
    expect(first.count).toBeGreaterThanOrEqual(1);
    const ends = await endsOf(person.id);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ customer_id: acme.id, after: expect.objectContaining({ reason: 'expired' }) });
    expect(ends[0]!.actor_label).toContain('Sam Support');
    expect(await stillViewing(person.id)).toBe(false);
    const run = await db('job_runs').where({ job: 'end-lapsed-views' }).orderBy('id', 'desc').first();
    expect(run).toBeDefined();

    // then the staff member comes back: themselves, and no second end
    const page = await agent.get('/admin/customers');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('Viewing as');
    expect((await runJob(endLapsedViewsJob, { db, clock, mail: null })).count).toBe(0);
    expect(await endsOf(person.id)).toHaveLength(1);
  });

  it("the staff member's request first: the job then finds nothing to end", async () => {
    const person = await newPerson();
    const { agent } = await startView(person.id);
    clock.advance(31 * 60_000);
    expect((await agent.get('/assets')).status).toBe(303);
    expect(await stillViewing(person.id)).toBe(false);
    await endLapsedViews(db, clock.now());
    expect(await endsOf(person.id)).toHaveLength(1);
  });

  it('the job and the request at once: one end', async () => {
    const person = await newPerson();
    const { agent } = await startView(person.id);
    clock.advance(31 * 60_000);
    // the job first: the staff member's own page; the request first: sent to the person's staff page
    const [res] = await Promise.all([agent.get('/admin/customers'), endLapsedViews(db, clock.now())]);
    expect([200, 303]).toContain(res.status);
    expect(await endsOf(person.id)).toHaveLength(1);
  });

  it('a request in flight that stores the view back after the job: its next request writes no second end', async () => {
    const person = await newPerson();
    const { agent, sid } = await startView(person.id);
    const stored = (await db('session').where({ sid }).first<{ sess: object }>('sess'))!.sess;
    clock.advance(31 * 60_000);
    await endLapsedViews(db, clock.now());
    expect(await endsOf(person.id)).toHaveLength(1);
    // what the session store writes for a request that loaded the session before the job ran
    await db('session')
      .where({ sid })
      .update({ sess: JSON.stringify(stored) });
    expect((await agent.get('/assets')).status).toBe(303);
    expect(await stillViewing(person.id)).toBe(false);
    await endLapsedViews(db, clock.now());
    expect(await endsOf(person.id)).toHaveLength(1);
  });
});
