#!/usr/bin/env tsx
// `npm run tools`: make sure every pinned tool is available (building it if needed) and say
// where each one came from. Exits non-zero with the reason when one cannot be provided.
import { PINNED, resolveTool } from './index.ts'
import type { ResolvedTool, ToolName } from './index.ts'

const names = Object.keys(PINNED) as ToolName[]
const log = (line: string): void => void process.stderr.write(`${line}\n`)

let failed = false
const results: ResolvedTool[] = []
for (const name of names) {
  try {
    results.push(await resolveTool(name, { log }))
  } catch (err) {
    failed = true
    log(`error: ${err instanceof Error ? err.message : String(err)}`)
  }
}
const width = Math.max(...names.map((n) => n.length))
for (const t of results) {
  process.stdout.write(`${t.name.padEnd(width)}  ${t.version.padEnd(8)}  ${t.path}  (${describe(t.source)})\n`)
}
process.exitCode = failed ? 1 : 0

function describe(source: ResolvedTool['source']): string {
  switch (source) {
    case 'env':
      return 'explicit env path'
    case 'path':
      return 'found on PATH'
    case 'cache':
      return 'project tool cache'
    case 'built':
      return 'built with Go into the tool cache'
    case 'downloaded':
      return 'downloaded official release into the tool cache'
  }
}
