// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

/** The flow of imports (STYLE.md): main → app → routes → services → db; jobs → services. */
const layers = [
  {
    files: ['src/services/**/*.ts'],
    rules: restrict([
      { group: ['express', 'express-*', 'connect-*', 'csrf-sync', 'helmet'], message: 'Services know nothing of HTTP.' },
      { group: ['**/routes/**', '**/middleware/**', '**/jobs/**', '**/app.js', '**/main.js'], message: 'Services never import routes, middleware or jobs.' },
    ]),
  },
  {
    files: ['src/routes/**/*.ts'],
    rules: restrict([
      { group: ['**/db/**', 'knex', 'pg', 'pg-*'], message: 'Routes call services; SQL and the database layer live below them.' },
      { group: ['**/jobs/**'], message: 'Routes do not import jobs; call the service the job calls.' },
    ]),
  },
  {
    files: ['src/jobs/**/*.ts'],
    rules: restrict([
      { group: ['express', '**/routes/**', '**/middleware/**', '**/app.js'], message: 'Jobs call services only.' },
      { group: ['knex', 'pg'], message: 'A job holds no SQL of its own: put it in a service.' },
    ]),
  },
  {
    files: ['src/db/**/*.ts'],
    rules: restrict([{ group: ['**/services/**', '**/routes/**', '**/middleware/**', '**/jobs/**'], message: 'The database layer imports nothing above it.' }]),
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'coverage/', 'public/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  { files: ['src/main.ts', 'src/seed.ts', 'scripts/**', 'bench/**', 'tests/**'], rules: { 'no-console': 'off' } },
  ...layers,
);
