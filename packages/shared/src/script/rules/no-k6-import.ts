// A k6 script loads something k6 resolves. With no imports at all it may still run (a warning);
// importing only what k6 cannot use means it is no k6 script (an error).
import type { Rule } from '../context.ts'

export const noK6ImportRule: Rule = {
  id: 'no-k6-import',
  check(ctx, report) {
    const k6ish = ctx.imports.some(({ kind }) => kind === 'k6' || kind === 'remote' || kind === 'local' || kind === 'k6-browser' || kind === 'k6-unknown')
    if (k6ish) return
    if (ctx.imports.length === 0) {
      report.warn('no-k6-import', 'The script imports nothing from k6, so it cannot send requests or check results. Start with e.g. import http from "k6/http".')
    } else {
      report.error('no-k6-import', 'The script imports no k6 module; it does not look like a k6 script. Import what it needs from k6, e.g. import http from "k6/http".')
    }
  },
}
