// The static rules checkScript applies, in order. Findings are sorted by position afterwards (a
// stable sort), so the order here only decides between findings at the same position: e.g. the
// no-k6-import error comes before no-default-export, and its warning before no-options.
import type { Rule, SourceRule } from '../context.ts'
import { consoleInDefaultHighVusRule } from './console-in-default-high-vus.ts'
import { defaultExportRule } from './default-export.ts'
import { importsRule } from './imports.ts'
import { noK6ImportRule } from './no-k6-import.ts'
import { openPathsRule } from './open-paths.ts'
import { optionsAndThresholdsRule } from './options-and-thresholds.ts'
import { scriptTooLargeRule } from './script-too-large.ts'
import { sourceMapRule } from './source-map.ts'

/** Rules on the script's text, before it is parsed; an error from one ends the check. */
export const SOURCE_RULES: readonly SourceRule[] = [scriptTooLargeRule]

/** Rules on the parsed script. */
export const RULES: readonly Rule[] = [importsRule, sourceMapRule, openPathsRule, noK6ImportRule, defaultExportRule, optionsAndThresholdsRule, consoleInDefaultHighVusRule]

/** Rules on each of a test's modules (a file the script imports): what it loads and opens. */
export const MODULE_RULES: readonly Rule[] = [importsRule, sourceMapRule, openPathsRule]
