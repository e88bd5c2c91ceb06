// Resolution of the external binaries the platform runs (k6, Temporal CLI) at pinned versions.
export { resolveTool } from './resolve.ts'
export type { ResolvedTool } from './resolve.ts'
export { PINNED } from './versions.ts'
export type { ToolName } from './versions.ts'
export { TOOL_CACHE_DIR, repoRoot } from './paths.ts'
