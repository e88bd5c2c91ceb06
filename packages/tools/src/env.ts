// The only place in @stampede/tools that reads the process environment (lint rule: process.env
// only in env.ts files). Functions that take an `env` option default to this.

/** The environment of this process. */
export function processEnv(): NodeJS.ProcessEnv {
  return process.env
}
