// `npm run pack`: builds the installable `@stampede/sdk` and `@stampede/cli` and packs each into a
// tarball (default folder: dist/packages at the repository root; `--out <dir>` to choose).
//
// Inside the repository both packages are TypeScript source that other workspaces import as it is.
// A package for the world needs JavaScript, declarations that name nothing from this repository,
// and dependencies it really uses, so each is staged in build/pack/<name> and packed from there:
// - JavaScript: esbuild bundles each entry point with the workspace code it reaches
//   (@stampede/shared, @stampede/k6-output); npm packages stay imports. Every import left in the
//   bundle must be a dependency the staged package.json declares, else the build fails.
// - Types (SDK): the API's router as plain declarations (router-types.ts), then rollup-plugin-dts
//   bundles one .d.ts per entry point with the workspace types inlined.
// - The CLI depends on exactly this SDK version; its bin is the bundled CLI with a shebang.
import { execFile } from 'node:child_process'
import { mkdir, readFile, rm, writeFile, chmod, copyFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { build, type Metafile, type Plugin } from 'esbuild'
import { rollup } from 'rollup'
import { dts } from 'rollup-plugin-dts'
import { generateRouterTypes } from './router-types.ts'

const run = promisify(execFile)
const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const root = path.resolve(sdkDir, '../..')
const cliDir = path.join(root, 'packages/cli')
const stage = path.join(sdkDir, 'build/pack')

interface Manifest {
  name: string
  version: string
  description?: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

const readJson = async <T>(file: string): Promise<T> => JSON.parse(await readFile(file, 'utf8')) as T

/** npm package name of a bare import (`@trpc/client/links` → `@trpc/client`); null for node: and relative. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('node:') || specifier.startsWith('.') || specifier.startsWith('/')) return null
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

/** The version range each npm dependency has in the workspace package that declares it. */
async function workspaceRanges(): Promise<Map<string, string>> {
  const ranges = new Map<string, string>()
  for (const dir of ['packages/sdk', 'packages/cli', 'packages/shared', 'packages/k6-output']) {
    const m = await readJson<Manifest>(path.join(root, dir, 'package.json'))
    for (const [name, range] of Object.entries(m.dependencies ?? {})) if (!name.startsWith('@stampede/')) ranges.set(name, range)
  }
  return ranges
}

/** The npm packages a bundle still imports, checked against what the package will declare. */
function importedPackages(meta: Metafile, allowed: Set<string>, what: string): Set<string> {
  const used = new Set<string>()
  for (const output of Object.values(meta.outputs)) {
    for (const imp of output.imports) {
      const name = packageOf(imp.path)
      if (!imp.external || name === null) continue
      if (!allowed.has(name)) throw new Error(`${what}: the bundle imports ${imp.path}, which is not a dependency it may declare`)
      used.add(name)
    }
  }
  return used
}

function dependencies(used: Set<string>, ranges: Map<string, string>, pinned: Record<string, string> = {}): Record<string, string> {
  const deps: Record<string, string> = { ...pinned }
  for (const name of [...used].sort()) {
    if (name in deps) continue
    const range = ranges.get(name)
    if (!range) throw new Error(`no version range for ${name} in the workspace's package.json files`)
    deps[name] = range
  }
  return deps
}

/** Workspace code (@stampede/*) is bundled, except `keep`; every npm package stays an import. */
function npmExternal(keep?: string): Plugin {
  return {
    name: 'npm-external',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = packageOf(args.path)
        if (name === null || (name.startsWith('@stampede/') && name !== keep)) return undefined
        return { path: args.path, external: true }
      })
    },
  }
}

const common = {
  license: 'MIT',
  type: 'module',
  engines: { node: '>=20.19' },
  sideEffects: false,
}

async function packSdk(ranges: Map<string, string>): Promise<{ dir: string; version: string }> {
  const manifest = await readJson<Manifest>(path.join(sdkDir, 'package.json'))
  const out = path.join(stage, 'sdk')
  const entries = ['index', 'console', 'frames', 'files']
  // `ws` is imported lazily on Node only; @trpc/server is where the router types' building blocks
  // live (types only, but a client's type-check needs it, as @trpc/client's own peer).
  const allowed = new Set(['@trpc/client', '@trpc/server', 'ws', 'zod'])
  const result = await build({
    entryPoints: Object.fromEntries(entries.map((e) => [e, path.join(sdkDir, 'src', `${e}.ts`)])),
    outdir: path.join(out, 'dist'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    plugins: [npmExternal()],
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  })
  const used = importedPackages(result.metafile, allowed, '@stampede/sdk')
  used.add('@trpc/server')

  // Types: the router as a client sees it, then one bundled declaration file per entry.
  const routerFile = path.join(stage, 'types/router.ts')
  await mkdir(path.dirname(routerFile), { recursive: true })
  const router = generateRouterTypes(sdkDir)
  await writeFile(routerFile, router.text)
  for (const entry of entries) {
    const bundle = await rollup({
      input: path.join(sdkDir, 'src', `${entry}.ts`),
      external: (id) => {
        const name = packageOf(id)
        return name !== null && !name.startsWith('@stampede/')
      },
      plugins: [
        dts({
          respectExternal: true,
          tsconfig: path.join(sdkDir, 'tsconfig.json'),
          compilerOptions: { paths: { '@stampede/api': [routerFile] }, noEmit: false, declaration: true, emitDeclarationOnly: true },
        }),
      ],
      onwarn: (warning) => {
        throw new Error(`declarations of ${entry}: ${warning.message}`)
      },
    })
    await bundle.write({ file: path.join(out, 'dist', `${entry}.d.ts`), format: 'es' })
    await bundle.close()
  }

  const exportsOf = (entry: string) => ({ types: `./dist/${entry}.d.ts`, import: `./dist/${entry}.js`, default: `./dist/${entry}.js` })
  const pkg = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    ...common,
    exports: { '.': exportsOf('index'), './console': exportsOf('console'), './frames': exportsOf('frames'), './files': exportsOf('files'), './package.json': './package.json' },
    types: './dist/index.d.ts',
    files: ['dist', 'README.md'],
    dependencies: dependencies(used, ranges),
  }
  await writeFile(path.join(out, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  await copyFile(path.join(sdkDir, 'PACKAGE.md'), path.join(out, 'README.md'))
  console.log(`@stampede/sdk ${pkg.version}: ${router.procedures.length} procedures typed; dependencies ${Object.keys(pkg.dependencies).join(', ')}`)
  return { dir: out, version: pkg.version }
}

async function packCli(ranges: Map<string, string>, sdkVersion: string): Promise<string> {
  const manifest = await readJson<Manifest>(path.join(cliDir, 'package.json'))
  if (manifest.version !== sdkVersion) throw new Error(`@stampede/cli is ${manifest.version} but @stampede/sdk is ${sdkVersion}: they ship together, give them one version`)
  const out = path.join(stage, 'cli')
  // @babel/parser and @babel/types: the collector parses a script's modules to find its files (cli/src/collect.ts).
  const allowed = new Set(['@stampede/sdk', '@babel/parser', '@babel/types', 'xmlbuilder2', 'zod'])
  const result = await build({
    entryPoints: { stampede: path.join(cliDir, 'src/bin.ts') },
    outdir: path.join(out, 'dist'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [npmExternal('@stampede/sdk')],
    banner: { js: '#!/usr/bin/env node' },
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  })
  const used = importedPackages(result.metafile, allowed, '@stampede/cli')
  const pkg = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    ...common,
    bin: { stampede: './dist/stampede.js' },
    files: ['dist', 'README.md'],
    dependencies: dependencies(used, ranges, { '@stampede/sdk': sdkVersion }),
  }
  await chmod(path.join(out, 'dist/stampede.js'), 0o755)
  await writeFile(path.join(out, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  await copyFile(path.join(cliDir, 'PACKAGE.md'), path.join(out, 'README.md'))
  console.log(`@stampede/cli ${pkg.version}: bin stampede; dependencies ${Object.keys(pkg.dependencies).join(', ')}`)
  return out
}

/** Builds and packs both packages into `outDir`; returns the tarballs' paths (SDK first). */
export async function packAll(outDir: string): Promise<string[]> {
  await rm(stage, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const ranges = await workspaceRanges()
  const sdk = await packSdk(ranges)
  const cli = await packCli(ranges, sdk.version)
  const tarballs: string[] = []
  for (const dir of [sdk.dir, cli]) {
    const { stdout } = await run('npm', ['pack', dir, '--pack-destination', outDir, '--json'], { cwd: outDir })
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }]
    tarballs.push(path.join(outDir, filename))
  }
  return tarballs
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } })
  const outDir = path.resolve(process.env.INIT_CWD ?? process.cwd(), values.out ?? path.join(root, 'dist/packages'))
  const tarballs = await packAll(outDir)
  for (const t of tarballs) console.log(t)
}
