// k6 strips TypeScript types only from files named .ts, so wherever Stampede hands a script to
// k6 (the API's engine check, the runner) the file's name follows the script's language.
import type { ScriptLanguage } from './check.ts'

export const scriptFileName = (language: ScriptLanguage | null): 'script.ts' | 'script.js' => (language === 'typescript' ? 'script.ts' : 'script.js')
