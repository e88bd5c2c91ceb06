// The world every k6 process the platform starts sees, validation and run alike: the same paths,
// the same HOME and working directory, the same environment names. A script that computes its
// options from where it runs (`__ENV.HOME`, its own path) computes the same thing in both.

/** The private directory of one k6 process, as k6 sees it. */
export const SANDBOX_WORK_DIR = '/work'
/** The k6 binary, as k6 sees it. */
export const SANDBOX_K6_PATH = '/usr/bin/k6'

/** Names a run's variables may not set: k6's own settings and what the platform sets for k6. */
export const PLATFORM_ENV_NAME = /^(K6_.*|PATH|HOME|TMPDIR)$/i

/**
 * The environment of every k6 process: the run's variables (secrets or their stand-ins) plus the
 * platform's settings, identical for `k6 inspect` and `k6 run` so a script cannot tell them apart.
 * `home` is SANDBOX_WORK_DIR in the sandbox, or the host directory when the sandbox is off.
 */
export function k6Environment(vars: Record<string, string>, home: string): Record<string, string> {
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
    K6_WEB_DASHBOARD_EXPORT: 'report.html',
    K6_WEB_DASHBOARD_PORT: '-1',
    // The dashboard's default 10 s period skips the report for short runs ("not enough data").
    K6_WEB_DASHBOARD_PERIOD: '1s',
  }
}
