export { checkScript, detectLanguage, parseScript, MAX_SCRIPT_BYTES, CONSOLE_VUS_WARNING, ERROR_CODES, WARNING_CODES } from './check.ts'
export type { CheckOptions, CheckResult, Finding, ScriptLanguage, ErrorCode, WarningCode } from './check.ts'
export { classifyImport, K6_MODULES, NODE_BUILTINS, type ImportKind } from './modules.ts'
export { K6_BUILTIN_METRICS } from './metrics.ts'
