export { createRunner, workflowBundle, type Runner } from './worker.ts'
export { loadRunnerConfig, ORCHESTRATION_ONLY, type RunnerConfig } from './env.ts'
export { k6Args, k6Env, k6RunFlags, k6Writes, SCRIPT_FILE, SCRIPT_PATH } from './k6/command.ts'
export { controlAddress, holdCaps, httpControl } from './k6/control.ts'
