export { createRunner, workflowBundle, type Runner } from './worker.ts'
export { loadRunnerConfig, type RunnerConfig } from './env.ts'
export { k6Args, k6Env, SCRIPT_FILE, SCRIPT_PATH } from './k6/command.ts'
