// One lint configuration for the whole monorepo. The workflow rule keeps Temporal workflow
// code deterministic: no Node built-ins, Prisma, AWS SDK or other side-effecting imports.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'
import svelte from 'eslint-plugin-svelte'
import svelteConfig from './apps/web/svelte.config.js'

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/build/**', '**/.svelte-kit/**', '**/generated/**', '.tools/**', '.data/**', 'packages/shared/src/script/corpus/**', 'packages/shared/src/templates/scripts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    files: ['**/*.ts', 'apps/web/**/*.svelte'],
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: { allowDefaultProject: ['types/*.d.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tool configuration files belong to no package's tsconfig (and the web app's tsconfig only
    // exists after `svelte-kit sync`): lint them without type information.
    files: ['**/*.config.ts', '**/*.config.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { projectService: false } },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // The web app runs in browsers; its Svelte components are parsed with TypeScript.
    files: ['apps/web/**/*.svelte', 'apps/web/**/*.svelte.ts'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
        parser: tseslint.parser,
        svelteConfig,
      },
    },
  },
  {
    files: ['apps/runner/src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'child_process', 'crypto', 'os'], message: 'Workflow code must be deterministic: no Node built-ins.' },
            { group: ['@prisma/*', '@stampede/db', '@stampede/runs', '@aws-sdk/*', '@stampede/storage', '@temporalio/worker', '@temporalio/client', '@temporalio/activity'], message: 'Workflow code must not import side-effecting modules; call an activity.' },
            { group: ['../activities/*', '../activities'], importNamePattern: '^(?!type )', message: 'Import activities type-only and call them through proxyActivities.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
)
