import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { createDb, ensureDatabase } from '../../src/db/index.js';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeOperator, makeTenant, makeUser } from '../support/factories.js';
import { withDatabase } from '../support/global-setup.js';
import { runPortico, startServer } from '../support/processes.js';
import { startSmtpCatcher } from '../support/smtp.js';

/** `portico …` run as an operator runs it: a child process with the server's environment. */

const { db, url } = await testDatabase();
const { app } = testApp({ db });
const BASE_URL = 'https://portal.example.test';
const env = { DATABASE_URL: url, BASE_URL, DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'portico-cli-')) };
const LINK = /^ {2}https:\/\/portal\.example\.test(\/activate\/[A-Za-z0-9_-]{43})$/m;
const counts = async () =>
  Promise.all(
    ['tenants', 'users', 'memberships', 'user_tokens', 'operators'].map((t) => db(t).count({ n: '*' }).first()),
  );

/** Opens an activation link as the new person and chooses a password; answers where they land. */
async function activate(link: string, password: string) {
  const person = supertest.agent(app);
  const form = await person.get(link);
  expect(form.status).toBe(200);
  const res = await person
    .post(link)
    .type('form')
    .send({ _csrf: csrfFrom(form.text), password, passwordConfirm: password });
  expect(res.status).toBe(303);
  return { person, landing: res.headers.location as string };
}

describe('portico tenant create', () => {
  it("prints the first admin's single-use activation link, which signs them in to their new tenant", async () => {
    const run = await runPortico(
      ['tenant', 'create', '--name', 'Harbour Telecom', '--admin-email', 'hana@harbour.test', '--admin-name', 'Hana'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(
      'Created the tenant "Harbour Telecom" and its first tenant admin, Hana <hana@harbour.test>.',
    );
    expect(run.stdout).toContain('No SMTP_URL is set, so nothing was mailed');
    const link = LINK.exec(run.stdout)?.[1];
    expect(link, run.stdout).toBeDefined();

    const { person, landing } = await activate(link!, 'harbour lights at night');
    expect(landing).toBe('/admin/customers');
    expect((await person.get('/admin/customers')).text).toContain('Harbour Telecom');
    // the link worked once (a used link is a 404 page, DESIGN section 10)
    expect((await supertest(app).get(link!)).status).toBe(404);
    expect(await db('audit_log').orderBy('id').pluck('actor_label')).toContain('Portico command line');
  });

  it("mails the link through the new tenant's outbox when SMTP_URL is set", async () => {
    const smtp = await startSmtpCatcher();
    afterAll(() => smtp.close());
    const run = await runPortico(
      ['tenant', 'create', '--name', 'Mailed Provider', '--admin-email', 'max@mailed.test'],
      {
        ...env,
        SMTP_URL: smtp.url,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('The link was mailed to max@mailed.test.');
    const link = LINK.exec(run.stdout)?.[1];
    const mail = await smtp.waitFor((m) => m.subject === 'Activate your Portico account');
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('max@mailed.test');
    expect(mail.text).toContain(`${BASE_URL}${link}`);
    expect(mail.text).toContain('as the administrator of Mailed Provider');
    const tenant = await db('tenants').where({ name: 'Mailed Provider' }).first('id');
    expect(await db('outbox').where({ tenant_id: tenant.id }).pluck('status')).toEqual(['sent']);
  });

  it('refuses bad arguments and bad input in one line on stderr with exit code 2, and writes nothing', async () => {
    const taken = await makeUser(db, {
      tenantId: (await makeTenant(db, { name: 'Taken Name' })).id,
      role: 'tenant_admin',
    });
    const before = await counts();
    // every refusal of the arguments alone is in tests/unit/cli-parse.test.ts; here, a few of them as the
    // operator sees them, and those that need the database
    const cases: [string[], string][] = [
      [[], 'portico: no command given'],
      [['tenant', 'create', '--name', 'Acme'], 'portico: tenant create needs --admin-email'],
      [['tenant', 'create', '--name', '', '--admin-email', 'a@a.test'], 'portico: tenant create: --name is empty'],
      [['tenant', 'create', '--name', 'Acme', '--admin-email', 'not-an-email'], '--admin-email: Enter a valid email'],
      [['tenant', 'create', '--name', 'Acme', '--admin-email', taken.email], '--admin-email: A user with this email'],
      [['tenant', 'create', '--name', 'taken name', '--admin-email', 'x@y.test'], '--name: A tenant with this name'],
      [['operator', 'create', '--email', taken.email.toUpperCase()], '--email: A user with this email already exists'],
    ];
    for (const [args, message] of cases) {
      const run = await runPortico(args, env);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.split('\n')).toEqual([expect.stringContaining(message), '']);
      expect(run.stderr).toMatch(/^portico: /);
    }
    expect(await counts()).toEqual(before);
  }, 180_000);
});

describe('a database out of reach', () => {
  it('is said in one line on stderr, with exit code 1', async () => {
    const port = await freePort();
    const run = await runPortico(['tenant', 'list'], { ...env, DATABASE_URL: `postgres://x:y@127.0.0.1:${port}/none` });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^portico: cannot reach the database \(DATABASE_URL\): [^\n]*ECONNREFUSED[^\n]*\n$/);
  });
});

describe('portico operator create', () => {
  it('prints and mails a single-use link that signs the new operator in to the operator pages', async () => {
    const smtp = await startSmtpCatcher();
    afterAll(() => smtp.close());
    const run = await runPortico(['operator', 'create', '--email', 'olive@ops.test', '--name', 'Olive Ops'], {
      ...env,
      SMTP_URL: smtp.url,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Created the deployment operator Olive Ops <olive@ops.test>.');
    expect(run.stdout).toContain('The link was mailed to olive@ops.test.');
    const link = LINK.exec(run.stdout)?.[1];
    const mail = await smtp.waitFor((m) => m.subject === 'Activate your Portico operator account');
    expect(mail.text).toContain(`${BASE_URL}${link}`);

    const { person, landing } = await activate(link!, 'olive keeps the lights on');
    expect(landing).toBe('/operator/tenants');
    expect((await person.get('/operator/tenants')).text).toContain('<h1>Tenants</h1>');
  });
});

describe('portico tenant list', () => {
  it('lists every tenant with its status and tenant admins', async () => {
    const listed = await makeTenant(db, { name: 'Listed Provider' });
    await makeUser(db, { tenantId: listed.id, role: 'tenant_admin' }, { email: 'lena@listed.test' });
    await makeUser(db, { tenantId: listed.id, role: 'tenant_admin' }, { email: 'leo@listed.test', status: 'pending' });
    await makeUser(db, { tenantId: listed.id, role: 'support_agent' });
    await db('tenants').insert({ name: 'Paused Provider', disabled_at: new Date() });
    await makeOperator(db);
    const run = await runPortico(['tenant', 'list'], env);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +STATUS +TENANT ADMINS +PEOPLE +CREATED +ID$/);
    expect(lines.find((l) => l.startsWith('Listed Provider'))).toMatch(
      new RegExp(
        `^Listed Provider +active +lena@listed\\.test, leo@listed\\.test \\(pending\\) +3 +[-\\d]{10} +${listed.id}$`,
      ),
    );
    expect(lines.find((l) => l.startsWith('Paused Provider'))).toMatch(/^Paused Provider +disabled +- +0 /);
  });
});

describe('portico migrate', () => {
  it('brings an empty database up to date, and then says there is nothing to do', async () => {
    const adminUrl = inject('adminUrl');
    const name = `cli_${randomBytes(6).toString('hex')}`;
    await ensureDatabase(adminUrl, name);
    afterAll(async () => {
      const admin = createDb(adminUrl, { poolMax: 1 });
      await admin.raw(`drop database if exists ${name} with (force)`);
      await admin.destroy();
    });
    const empty = { ...env, DATABASE_URL: withDatabase(adminUrl, name) };
    const first = await runPortico(['migrate'], empty);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Applied \d+ migrations:\n {2}20261124000100_create_sessions\.ts\n/);
    expect(first.stdout).toContain('  20261206100100_create_operators.ts\n');
    const again = await runPortico(['migrate'], empty);
    expect(again.stdout).toBe('The database schema is up to date: no migration to apply.\n');
  });
});

describe('the embedded PostgreSQL of DATA_DIR', () => {
  it("uses the running server's own, and starts one for the command when the server is not running", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portico-cli-embedded-'));
    const port = await freePort();
    const embedded = { DATA_DIR: dataDir, DATABASE_URL: '', PORT: String(port), SEED: 'off', JOBS: 'off' };
    const server = await startServer(embedded, /Portico is ready at/);
    let stopped = false;
    afterAll(async () => void (stopped || (await server.stop())));

    const run = await runPortico(['tenant', 'create', '--name', 'Beside The Server', '--admin-email', 'b@side.test'], {
      ...embedded,
      BASE_URL: '',
    });
    expect(run.code, run.stderr).toBe(0);
    const link = new RegExp(`^ {2}http://localhost:${port}(/activate/\\S+)$`, 'm').exec(run.stdout)?.[1];
    expect(link, run.stdout).toBeDefined();
    // the server kept its PostgreSQL and reads what the command wrote
    const opened = await fetch(`http://127.0.0.1:${port}${link}`);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('b@side.test');

    const { code } = await server.stop();
    stopped = true;
    expect(code).toBe(0);
    const alone = await runPortico(['tenant', 'list'], embedded);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toContain('Beside The Server');
    // and stopped it again
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 180_000);
});

describe('portico audit verify', () => {
  it('answers 0 while the chains hold, 1 naming the altered entry, 2 for a tenant that does not exist', async () => {
    const tenant = await makeTenant(db, { name: 'Chained Provider' });
    const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
    for (const n of [1, 2, 3])
      await db('audit_log').insert({
        tenant_id: tenant.id,
        actor_user_id: admin.id,
        actor_label: 'Test',
        entity_type: 'customer',
        entity_id: `c-${n}`,
        action: 'customer.updated',
        after: JSON.stringify({ n }),
      });
    const intact = await runPortico(['audit', 'verify'], env);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^The audit log holds: \d+ chains?, \d+ entr(y|ies) verified\.$/m);

    const second = await db('audit_log').where({ tenant_id: tenant.id }).orderBy('chain_seq').offset(1).first();
    await db.transaction(async (trx) => {
      await trx.raw("set local portico.audit_rewrite = 'on'");
      await trx('audit_log').where({ tenant_id: tenant.id, id: second.id }).update({ actor_label: 'Someone else' });
    });
    const broken = await runPortico(['audit', 'verify', '--tenant', 'Chained Provider'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`Chained Provider (${tenant.id}) broken at entry ${second.id} (#2)`);

    const unknown = await runPortico(['audit', 'verify', '--tenant', 'Nobody'], env);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      'portico: audit verify: --tenant: no single tenant has the id or name "Nobody"',
    ]);
    const stray = await runPortico(['audit', 'check'], env);
    expect(stray.code).toBe(2);
  });
});
