// @stampede/runs: creating a run (every gate it passes, for manual, API and scheduled runs alike),
// the script validation those gates use (static checks, k6's own load of the script, the caps)
// and a run's status transitions.
export { createRun, scriptErrorsMessage, type CreateRunDeps, type CreateRunRequest, type CreateRunResult, type RunGate, type RunRefusal } from './create.ts'
export { runVariables, type RunVariables } from './variables.ts'
export {
  CAP_FINDING_CODES,
  capFindings,
  formatFindings,
  isCapFinding,
  k6Validator,
  SECRET_STAND_IN,
  validateScriptWith,
  validationEnv,
  type EngineCheck,
  type K6ValidatorOptions,
  type RunValidationRequest,
  type RunValidator,
  type ScriptValidation,
} from './validation.ts'
export { engineFinding, inspectScript, parseGoDuration, SandboxFailure, type ExecutionRequirements, type InspectOptions, type InspectResult } from './inspect.ts'
export { bundleKey, checkModules, readOnce, type FileReader, type TestBundle } from './bundle.ts'
export { InspectCache, type InspectCacheOptions, type InspectRequest } from './inspect-cache.ts'
export { failedToStart, markRunning } from './status.ts'
