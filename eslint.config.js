// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

/** The flow of imports (STYLE.md, ARCHITECTURE.md): main → app → routes → services → db; jobs → services. */
const http = ['express', 'express-*', 'connect-*', 'csrf-sync', 'helmet'];
const sql = ['knex', 'pg', 'pg-*', '**/db/**'];
/**
 * Pure modules (rules, formats, masking, the message catalog): no database and no other domain's services.
 * They may be imported directly from anywhere, so that a constant they export is always evaluated before the
 * module that uses it, whatever order the domains' index files load in.
 */
const PURE = ['*rules', 'roles', 'money', 'number-masking', 'time-format', 'csv', 'user-agent', 'paging', 'i18n'];
/** Outside its folder a domain is reached through its index.ts, its public face. */
const domainFace = {
  // the message catalog (i18n) is pure and read everywhere: src/errors.ts and the web layer import it directly
  group: ['**/services/*/*', '!**/services/*/index.js', '!**/services/platform/i18n.js'],
  message: 'Import a domain through its index.ts.',
};
const siblingFace = {
  group: ['../*/*', '!../../**', '!../*/index.js', ...PURE.map((p) => `!../*/${p}.js`)],
  message: 'Import another domain through its index.ts (pure modules may be imported directly).',
};
const demo = {
  group: ['**/demo/**', '**/demo/*'],
  message: 'Only the boot (src/main.ts) and src/demo/ itself use the demo data.',
};

const layers = [
  {
    files: ['src/services/**/*.ts'],
    rules: restrict([
      { group: http, message: 'Services know nothing of HTTP.' },
      {
        group: ['**/routes/**', '**/web/**', '**/jobs/**', '**/app.js', '**/main.js'],
        message: 'Services never import routes, the web layer or jobs.',
      },
      siblingFace,
      demo,
    ]),
  },
  {
    // pure modules: no database, not even through a domain's index.ts, so they load and test alone
    files: PURE.map((p) => `src/services/*/${p}.ts`),
    rules: restrict([
      { group: sql, message: 'A rules module is pure: no database.' },
      {
        group: ['**/index.js'],
        message: 'A pure module imports other pure modules, never a domain index (it loads the database code).',
      },
    ]),
  },
  {
    files: ['src/routes/**/*.ts', 'src/web/**/*.ts'],
    // the session store (src/web/session.ts) shares the database pool, and nothing else here touches it
    ignores: ['src/web/session.ts'],
    rules: restrict([
      { group: sql, message: 'Routes call services; SQL and the database layer live below them.' },
      { group: ['**/jobs/**'], message: 'Routes do not import jobs; call the service the job calls.' },
      domainFace,
      demo,
    ]),
  },
  {
    files: ['src/jobs/**/*.ts'],
    rules: restrict([
      { group: ['express', '**/routes/**', '**/web/**', '**/app.js'], message: 'Jobs call services only.' },
      { group: ['knex', 'pg'], message: 'A job holds no SQL of its own: put it in a service.' },
      domainFace,
      demo,
    ]),
  },
  {
    files: ['src/db/**/*.ts'],
    rules: restrict([
      {
        group: ['**/services/**', '**/routes/**', '**/web/**', '**/jobs/**', '**/demo/**'],
        message: 'The database layer imports nothing above it.',
      },
    ]),
  },
  { files: ['src/*.ts'], ignores: ['src/main.ts'], rules: restrict([demo, domainFace]) },
  // the `portico` command line is a boot like main: config, database, services; never the demo data
  { files: ['src/cli/**/*.ts'], rules: restrict([demo, domainFace]) },
  { files: ['src/main.ts', 'src/demo/**/*.ts'], rules: restrict([domainFace]) },
];

/** Roles are compared in one place: the access domain (policy, scopes, navigation). */
const roleComparisons = [
  {
    selector: "BinaryExpression > MemberExpression[property.name='role']",
    message: 'Ask the access domain (can, authorize, a scope) instead of comparing roles.',
  },
  {
    selector: "CallExpression[callee.property.name='includes'] > MemberExpression[property.name='role']",
    message: 'Ask the access domain (can, authorize, a scope) instead of comparing roles.',
  },
];
const roleComparison = [
  {
    files: ['src/**/*.ts'],
    ignores: ['src/services/access/**'],
    rules: { 'no-restricted-syntax': ['error', ...roleComparisons] },
  },
  {
    // the guard hands a route's handler its actor: allow(action, (req, res, actor) => …)
    files: ['src/routes/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...roleComparisons,
        {
          selector: "MemberExpression[object.name='req'][property.name='actor']",
          message: 'Take the actor the guard hands the handler: allow(action, async (req, res, actor) => …).',
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'coverage/', 'public/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['src/main.ts', 'src/demo/seed.ts', 'scripts/**', 'bench/**', 'tests/**', 'deploy/scale-test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // no line past Prettier's printWidth: Prettier does not wrap strings, template literals or comments, so
    // this rule catches what it leaves long (a line with a URL may run on)
    files: [
      'src/**/*.ts',
      'tests/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      'migrations/**/*.ts',
      'deploy/scale-test/**/*.ts',
      '*.ts',
    ],
    // a catalog message is one string literal, which scripts/check-catalog.ts reads whole
    rules: { 'max-len': ['error', { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true }] },
  },
  ...layers,
  ...roleComparison,
);
