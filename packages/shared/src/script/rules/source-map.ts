// A `//# sourceMappingURL=` comment naming a URL makes k6 fetch that map while it loads the
// script, before any target policy applies, as a remote import would. Stampede never lets k6
// fetch anything: a map inline (`data:`) or in a test file is fine, a URL is refused.
import { posOf } from '../ast.ts'
import type { Rule } from '../context.ts'

const SOURCE_MAP = /^[#@]\s*sourceMappingURL=\s*(\S+)/

export const sourceMapRule: Rule = {
  id: 'source-map',
  check(ctx, report) {
    for (const comment of ctx.ast.comments ?? []) {
      const url = SOURCE_MAP.exec(comment.value.trim())?.[1]
      if (url === undefined || !/^[a-z][a-z0-9+.-]*:/i.test(url) || /^data:/i.test(url)) continue
      report.error(
        'remote-source-map',
        `The source map comment names ${url}, which k6 would fetch while loading the script, and Stampede never fetches anything while it checks or runs a test. Remove the comment, inline the map (sourceMappingURL=data:application/json;base64,…), or add the map to the test's files and name it relatively.`,
        posOf(comment as unknown as Parameters<typeof posOf>[0]),
      )
    }
  },
}
