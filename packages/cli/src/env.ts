// The only place in @stampede/cli that reads the process environment (lint rule: process.env only
// in env.ts files). run() hands it to main(), which takes the environment as an argument.

/** The environment of this process. */
export function processEnv(): NodeJS.ProcessEnv {
  return process.env
}
