// The pinned tool versions and how each tool announces its version. A Go binary built with
// `go install` but without release ldflags may print a placeholder (temporal: `0.0.0-DEV`); the
// module version embedded by the Go linker is then the evidence (see buildinfo.ts).

export type ToolName = 'k6' | 'temporal'

export const PINNED: Record<ToolName, { version: string; module: string }> = {
  k6: { version: '2.2.0', module: 'go.k6.io/k6/v2' },
  temporal: { version: '1.5.1', module: 'github.com/temporalio/cli/cmd/temporal' },
}

/** Arguments that make each tool print its version. */
export const VERSION_ARGS: Record<ToolName, string[]> = {
  k6: ['version'],
  temporal: ['--version'],
}

/** Env var holding an explicit path to each tool. */
export const ENV_VAR: Record<ToolName, string> = {
  k6: 'K6_BIN_PATH',
  temporal: 'TEMPORAL_BIN_PATH',
}

const SEMVER = String.raw`v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)`
const PATTERNS: Record<ToolName, RegExp> = {
  // `k6 v2.2.0 (commit/devel, go1.26.8, linux/amd64)`
  k6: new RegExp(String.raw`\bk6 ` + SEMVER),
  // `temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)`
  temporal: new RegExp(String.raw`\btemporal version ` + SEMVER),
}

/** The version a tool printed, without a leading `v`, or undefined if the output is not the
 * tool's version line. */
export function parseVersion(name: ToolName, output: string): string | undefined {
  return PATTERNS[name].exec(output)?.[1]
}

/** Versions that say "built from source without a version stamp" rather than a real release. */
export function isPlaceholderVersion(version: string): boolean {
  return /^0\.0\.0(?:[-+]|$)/.test(version) || /devel/i.test(version)
}

/** Compare versions ignoring a leading `v`. */
export function sameVersion(a: string, b: string): boolean {
  return a.replace(/^v/, '') === b.replace(/^v/, '')
}
