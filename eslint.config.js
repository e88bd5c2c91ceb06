// One lint configuration for the whole monorepo. Below the shared setup: the house rules (apps never
// import apps, packages never import apps, process.env only in env.ts) and the workflow sandbox
// (Temporal workflow code stays deterministic: no Node built-ins, Prisma, AWS SDK or other side-effecting imports).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'
import svelte from 'eslint-plugin-svelte'
import svelteConfig from './apps/web/svelte.config.js'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'

const ROOT = import.meta.dirname

// ---- House rules: who may import whom ----------------------------------------------------------
// Apps (apps/*) are deployables; packages (packages/*) are libraries they share. Apps never import
// apps and packages never import apps, by package name (no-restricted-imports) or by relative path
// (house/no-cross-app-paths). The written exceptions below: the composition root (apps/stack), and
// the API router's type (`import type` only) for the SDK; the web app takes that type from the SDK.

/** Every app: its folder under apps/ and its package name (read from the apps, so a new app is covered). */
const APPS = readdirSync(path.join(ROOT, 'apps'))
  .filter((dir) => existsSync(path.join(ROOT, 'apps', dir, 'package.json')))
  .map((dir) => ({ dir, name: JSON.parse(readFileSync(path.join(ROOT, 'apps', dir, 'package.json'), 'utf8')).name }))

/**
 * `@typescript-eslint/no-restricted-imports` options forbidding the apps' packages (and their
 * subpaths) except `allow`; `typeOnly` packages may be imported with `import type` only.
 * (Its own rule name, so it never replaces the workflow sandbox's `no-restricted-imports`.)
 */
function noAppImports(message, { except = [], allow = [], typeOnly = [] } = {}) {
  const forbidden = APPS.map((app) => app.name).filter((name) => !except.includes(name) && !allow.includes(name) && !typeOnly.includes(name))
  return [
    'error',
    {
      paths: typeOnly.map((name) => ({ name, allowTypeImports: true, message: `${message} (${name}: \`import type\` only)` })),
      patterns: [
        { group: forbidden.flatMap((name) => [name, `${name}/*`]), message },
        ...(typeOnly.length > 0 ? [{ group: typeOnly.map((name) => `${name}/*`), message }] : []),
      ],
    },
  ]
}

/** The import specifiers of a module (static, re-exports, `import()` with a literal, `import x = require()`), with whether each is type-only. */
function importVisitor(check) {
  const typeOnly = (node) => node.importKind === 'type' || node.exportKind === 'type' || (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'))
  return {
    ImportDeclaration: (node) => check(node.source, typeOnly(node)),
    ExportNamedDeclaration: (node) => node.source && check(node.source, typeOnly(node)),
    ExportAllDeclaration: (node) => check(node.source, node.exportKind === 'type'),
    ImportExpression: (node) => node.source.type === 'Literal' && typeof node.source.value === 'string' && check(node.source, false),
    TSImportEqualsDeclaration: (node) => node.moduleReference.type === 'TSExternalModuleReference' && check(node.moduleReference.expression, node.importKind === 'type'),
  }
}

/** A specifier resolved against the importing file, as a repo-relative path with `/` (undefined for package names). */
function repoPath(filename, specifier) {
  if (!specifier.startsWith('.') && !path.isAbsolute(specifier)) return undefined
  return path.relative(ROOT, path.resolve(path.dirname(filename), specifier)).split(path.sep).join('/')
}

const housePlugin = {
  rules: {
    'no-cross-app-paths': {
      meta: { type: 'problem', schema: [], messages: { crossApp: '{{what}} reaches into apps/{{target}} by path: apps never import other apps and packages never import apps. Depend on a package instead.' } },
      create(context) {
        const own = repoPath(context.filename, context.filename)?.match(/^apps\/([^/]+)\//)?.[1]
        return importVisitor((source) => {
          const specifier = source.value
          const resolved = repoPath(context.filename, specifier)
          // A relative or absolute path that lands in another app; any other specifier with an apps/ segment (a path alias).
          const target = resolved !== undefined ? resolved.match(/^apps\/([^/]+)(\/|$)/)?.[1] : specifier.match(/(^|\/)apps\/([^/]+)/)?.[2]
          if (target && target !== own) context.report({ node: source, messageId: 'crossApp', data: { what: `'${specifier}'`, target } })
        })
      },
    },
    'workflow-bundle-imports': {
      meta: { type: 'problem', schema: [], messages: { unlisted: "'{{specifier}}' puts {{target}} into the Temporal workflow bundle, but it is not in WORKFLOW_MODULES (eslint.config.js), so the sandbox rule does not check it: import it type-only, or add it to WORKFLOW_MODULES." } },
      create(context) {
        return importVisitor((source, typeOnly) => {
          const resolved = repoPath(context.filename, source.value)
          if (typeOnly || resolved === undefined) return
          if (![resolved, `${resolved}.ts`, `${resolved}/index.ts`].some(isWorkflowModule)) context.report({ node: source, messageId: 'unlisted', data: { specifier: source.value, target: resolved } })
        })
      },
    },
  },
}

// ---- The workflow sandbox -------------------------------------------------------------------------
// Temporal bundles apps/runner/src/workflows/index.ts with every module it imports by value and
// replays it: that code must be deterministic. WORKFLOW_MODULES is that set within this repository
// (folders end in /); WORKFLOW_PACKAGE_IMPORTS are the workspace-package subpaths workflow code may
// import by value, each one a module in WORKFLOW_MODULES. house/workflow-bundle-imports fails on a
// relative value import of anything not listed, so the list cannot silently fall behind.
const WORKFLOW_PACKAGE_IMPORTS = { '@stampede/shared/temporal-names': 'packages/shared/src/temporal-names.ts' }
const WORKFLOW_MODULES = ['apps/runner/src/workflows/', ...Object.values(WORKFLOW_PACKAGE_IMPORTS)]
const isWorkflowModule = (file) => WORKFLOW_MODULES.some((entry) => (entry.endsWith('/') ? file.startsWith(entry) : file === entry))
const NODE_BUILTINS = builtinModules.filter((name) => !name.startsWith('_') && !name.startsWith('node:'))
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

// ---- process.env ---------------------------------------------------------------------------------
const ENV_MESSAGE = "Read the environment only in env.ts: read it in this package's env.ts and pass it in."

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
    // The workflow sandbox: every module in Temporal's workflow bundle (WORKFLOW_MODULES above).
    files: WORKFLOW_MODULES.map((entry) => (entry.endsWith('/') ? `${entry}**/*.ts` : entry)),
    plugins: { house: housePlugin },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({ name, message: 'Workflow code must be deterministic: no Node built-ins; call an activity.' })),
          patterns: [
            { regex: '^node:', message: 'Workflow code must be deterministic: no Node built-ins; call an activity.' },
            { group: ['@prisma/*', '@stampede/db', '@stampede/runs', '@aws-sdk/*', '@stampede/storage', '@temporalio/worker', '@temporalio/client', '@temporalio/activity'], message: 'Workflow code must not import side-effecting modules; call an activity.' },
            {
              regex: `^@stampede/(?!(${Object.keys(WORKFLOW_PACKAGE_IMPORTS).map((name) => escapeRegex(name.slice('@stampede/'.length))).join('|')})$)`,
              allowTypeImports: true,
              message: 'Only the modules in WORKFLOW_PACKAGE_IMPORTS (eslint.config.js) may be imported by value into the workflow bundle: import this type-only, or (if it is deterministic) add it there and to WORKFLOW_MODULES.',
            },
            { group: ['../activities/*', '../activities'], importNamePattern: '^(?!type )', message: 'Import activities type-only and call them through proxyActivities.', allowTypeImports: true },
          ],
        },
      ],
      'house/workflow-bundle-imports': 'error',
    },
  },
  // ---- Apps never import apps ----
  ...APPS.map(({ dir, name }) => ({
    files: [`apps/${dir}/**`],
    rules: { '@typescript-eslint/no-restricted-imports': noAppImports(`Apps never import other apps: ${name} may not depend on another app. Move the shared code into a package.`, { except: [name] }) },
  })),
  {
    // The one exception: apps/stack is the composition root that starts the platform (API and
    // runner in one process), so it may import the API and the runner. Never the web app.
    files: ['apps/stack/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': noAppImports('Apps never import other apps (apps/stack composes only @stampede/api and @stampede/runner).', {
        except: ['@stampede/stack'],
        allow: ['@stampede/api', '@stampede/runner'],
      }),
    },
  },
  // ---- Packages never import apps ----
  {
    files: ['packages/**'],
    rules: { '@typescript-eslint/no-restricted-imports': noAppImports('Packages never import apps: an app depends on packages, not the other way round.') },
  },
  {
    // The one exception: the SDK's types are inferred from the API's router, so packages/sdk may
    // import @stampede/api with `import type` (erased: nothing of the API ships in the SDK).
    files: ['packages/sdk/**'],
    rules: { '@typescript-eslint/no-restricted-imports': noAppImports('Packages never import apps.', { typeOnly: ['@stampede/api'] }) },
  },
  {
    // Relative paths into another app, from apps and packages alike.
    files: ['apps/**', 'packages/**'],
    plugins: { house: housePlugin },
    rules: { 'house/no-cross-app-paths': 'error' },
  },
  {
    // Compile-only fixture for the SDK's type tests: a variant of the API's AppRouter built from
    // the API's own routers (types.test.ts maps @stampede/api to it with tsconfig paths). tsc
    // reads it; it is never executed, bundled or shipped.
    files: ['packages/sdk/test/types/**'],
    rules: { 'house/no-cross-app-paths': 'off' },
  },
  // ---- process.env only in env.ts ----
  {
    // Configuration is read in one place per workspace (its env.ts) and passed in, so code is
    // testable and every variable a workspace reads is listed in one file. Tests, test/ folders,
    // scripts and generated code are outside this rule.
    files: ['apps/*/src/**/*.{ts,js,svelte}', 'packages/*/src/**/*.{ts,js}'],
    ignores: ['**/env.ts', '**/*.test.ts', '**/*.spec.ts', '**/test/**', '**/scripts/**', '**/generated/**'],
    rules: {
      // Also catches `const { env } = process`.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: ENV_MESSAGE }],
      // What no-restricted-properties cannot see: globalThis.process.env, import { env } from 'node:process'.
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.type='MemberExpression'][object.property.name='process'][property.name='env']", message: ENV_MESSAGE },
        { selector: "ImportDeclaration[source.value=/^(node:)?process$/] > ImportSpecifier[imported.name='env']", message: ENV_MESSAGE },
      ],
    },
  },
)
