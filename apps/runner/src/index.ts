export { createRunner, workflowBundle, type Runner } from './worker.ts'
export { loadRunnerConfig, type RunnerConfig } from './env.ts'
