// The world every k6 process the platform starts sees, validation and run alike: the same paths,
// the same HOME and working directory, the same environment names, the same files beside the
// script. A script that computes its options from where it runs (`__ENV.HOME`, its own path, a
// file it opens) computes the same thing in both. invocation.ts builds k6's command from these.

/** The private directory of one k6 process, as k6 sees it. */
export const SANDBOX_WORK_DIR = '/work'
/** The k6 binary, as k6 sees it. */
export const SANDBOX_K6_PATH = '/usr/bin/k6'

/**
 * The test's folder in k6's directory: its entry (the script, or a k6 archive) and its files at
 * their stored paths, so `open()` and local imports resolve as they did on the author's machine.
 * k6's output files stay one level up, out of the script's folder: no file of a test can take an
 * output's name, and a script lists only its own files beside it.
 */
export const TEST_DIR = 'test'
/** The entry's name in the test's folder: the script (by language: k6 strips types only from .ts) or an archive. */
export type K6EntryName = 'script.js' | 'script.ts' | 'archive.tar'
export const ARCHIVE_ENTRY: K6EntryName = 'archive.tar'
/** The entry's path as k6 is given it (relative to its working directory, SANDBOX_WORK_DIR). */
export const k6EntryPath = (entry: K6EntryName): string => `${TEST_DIR}/${entry}`

/**
 * The files k6 may write, as named in its directory. Every k6's directory holds all of them
 * (empty, read-only unless the run writes them; see K6Sandbox.prepare), so a script sees the same
 * files beside it in validation and in a run whatever the run asked for.
 */
export const K6_OUTPUT_FILES = {
  summary: 'summary.json',
  report: 'report.html',
  /** Stampede's metric frames as k6 writes them (packages/k6-output/FRAMES.md). */
  frames: 'metrics.ndjson',
  /** k6's per-sample JSON stream, only written when the run asked for raw samples. */
  samples: 'samples.json.gz',
} as const
/** Every file k6 may write. */
export const K6_OUTPUTS: readonly string[] = Object.values(K6_OUTPUT_FILES)

/** The stampede output's own default cap on tagged metric series (packages/k6-output, DefaultMaxSeries). */
export const DEFAULT_MAX_SERIES = 1000

/** Names a run's variables may not set: k6's own settings and what the platform sets for k6. */
export const PLATFORM_ENV_NAME = /^(K6_.*|PATH|HOME|TMPDIR)$/i

/**
 * The environment of every k6 process: the run's variables (secrets or their stand-ins) plus the
 * platform's settings, identical for `k6 inspect` and `k6 run` so a script cannot tell them apart
 * (k6 shows the whole environment to the script as __ENV). `home` is SANDBOX_WORK_DIR in the
 * sandbox, or the host directory when the sandbox is off. Use it through k6Invocation
 * (invocation.ts), which adds the purpose's arguments.
 */
export function k6Environment(vars: Record<string, string>, home: string, opts: { maxSeries?: number } = {}): Record<string, string> {
  return {
    // The API refuses such names; filtered here too, so an old row or a direct insert cannot
    // redirect k6's outputs or binaries.
    ...Object.fromEntries(Object.entries(vars).filter(([name]) => !PLATFORM_ENV_NAME.test(name))),
    PATH: '/usr/bin:/bin',
    HOME: home,
    TMPDIR: home,
    K6_NO_USAGE_REPORT: 'true',
    // Unknown modules must fail, not make k6 try to build a custom binary online.
    K6_AUTO_EXTENSION_RESOLUTION: 'false',
    K6_WEB_DASHBOARD_EXPORT: K6_OUTPUT_FILES.report,
    K6_WEB_DASHBOARD_PORT: '-1',
    // The dashboard's default 10 s period skips the report for short runs ("not enough data").
    K6_WEB_DASHBOARD_PERIOD: '1s',
    // Read by the stampede output (`k6 run` only), but set for every k6 so __ENV has the same
    // names in validation and run; validation, which does not know the runner's cap, gives the default.
    K6_STAMPEDE_MAX_SERIES: String(opts.maxSeries ?? DEFAULT_MAX_SERIES),
  }
}
