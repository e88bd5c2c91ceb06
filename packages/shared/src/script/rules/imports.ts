// Every module the script loads must be one k6 resolves from what the test holds: its own
// modules (k6/browser only where the location has a browser) or the test's own files. Node
// built-ins, npm packages and Playwright are refused, and so are remote modules: k6 fetches those
// while it loads the script, before any target policy applies, so Stampede never lets it fetch
// (a k6 archive carries its remote modules with it). An import() or require() must name its
// module literally, so that what a test loads is known before it runs.
import { posOf } from '../ast.ts'
import type { Rule } from '../context.ts'
import { checkFileReference } from '../file-reference.ts'

export const importsRule: Rule = {
  id: 'imports',
  check(ctx, report) {
    for (const { specifier, kind, node } of ctx.imports) {
      const pos = posOf(node)
      switch (kind) {
        case 'k6':
          break
        case 'remote':
          report.error(
            'remote-import',
            `"${specifier}" is a remote module, and Stampede never fetches modules while it checks or runs a test (k6 would fetch it before the target policy applies). Download it into the test's files and import it from there (e.g. "./lib/${specifier.split('/').pop() || 'module.js'}"), or build a k6 archive, which carries remote modules (\`k6 archive script.js\`, then upload the .tar or \`stampede run --archive\`).`,
            pos,
          )
          break
        case 'local':
          checkFileReference(ctx, report, 'import', specifier, node)
          break
        case 'k6-browser':
          if (!ctx.check.browserSupported) {
            report.error('browser-unsupported', `"${specifier}" needs a browser, and this location has no browser support. Use k6/http for protocol-level tests, or run from a location with browser support.`, pos)
          }
          break
        case 'k6-unknown':
          report.error('unknown-k6-module', `"${specifier}" is not a module of k6 v2 (extensions need a custom k6 binary). Use one of k6's modules, e.g. k6/http, k6/metrics, k6/data.`, pos)
          break
        case 'node-builtin':
          report.error('node-builtin-import', `"${specifier}" is a Node.js built-in; k6 does not run on Node.js. Use k6's own modules instead (k6/http for HTTP, k6/crypto or k6/encoding for hashing and base64, open() in the init code to read files).`, pos)
          break
        case 'playwright':
          report.error('playwright-import', `"${specifier}" is Playwright; k6 cannot run Playwright scripts. Rewrite the browser steps with k6/browser (its API follows Playwright's), or test the HTTP API with k6/http.`, pos)
          break
        case 'npm':
          report.error('npm-package-import', `"${specifier}" is an npm package; k6 does not resolve npm packages. Add a bundled copy of it to the test's files and import it relatively (e.g. "./lib/package.js"), or bundle the script before pasting it.`, pos)
      }
    }
    for (const { kind, node } of ctx.computedImports) {
      report.error('computed-import', `${kind === 'import' ? 'import()' : 'require()'} is given a computed module name; Stampede checks every module a test loads before it runs, so write the module's name as a string, e.g. ${kind === 'import' ? 'import("./lib/helper.js")' : 'require("./lib/helper.js")'}.`, posOf(node))
    }
  },
}
