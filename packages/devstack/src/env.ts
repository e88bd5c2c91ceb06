// What packages/devstack reads from the environment. Outside tests, nothing else in this package
// reads process.env: the functions that take an `env` default to processEnv(), and the embedded
// PostgreSQL's binaries get only postgresBinariesEnv().

/** An environment as the functions here take it (process.env, or a test's own). */
export type Env = Record<string, string | undefined>

/** The process's environment: the default of the functions that take an `env`. */
export const processEnv = (): NodeJS.ProcessEnv => process.env

/**
 * The environment the PostgreSQL binaries (initdb, postgres) run with: only what they need
 * (PATH, TZ when set, and the C locale), none of the platform's settings or credentials.
 */
export function postgresBinariesEnv(env: Env = processEnv()): NodeJS.ProcessEnv {
  return { PATH: env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...(env.TZ ? { TZ: env.TZ } : {}) }
}
