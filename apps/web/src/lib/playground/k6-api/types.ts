// The shape of the k6 API digest that generate.ts writes from @types/k6 and the playground's
// completions and hover hints read.

export type K6MemberKind = 'function' | 'class' | 'constant' | 'property' | 'method'

export interface K6Member {
  name: string
  kind: K6MemberKind
  /** The signature or type, as TypeScript prints it (`(url: string | HttpURL, …) => …`). */
  detail: string
  /** The first paragraph of its docs. */
  doc: string
  /** Its page in k6's docs. */
  url?: string
  /**
   * Key in `types` of what this is or returns: a constant's value, a function's (awaited)
   * result, a class's instances.
   */
  type?: string
}

export interface K6Module {
  /** The import specifier: `k6`, `k6/http`, … */
  name: string
  /** What `import x from '<module>'` binds: the module itself, an object type (key in `types`), or nothing. */
  defaultExport: 'namespace' | string | null
  /** Its named value exports (types and interfaces left out). */
  exports: K6Member[]
}

export interface K6ApiData {
  modules: K6Module[]
  /** Members of the object types the exports produce (Response, Counter, …). */
  types: Record<string, K6Member[]>
  /** The keys of `export const options`. */
  options: K6Member[]
  /** What every script can use without importing it: `__ENV`, `__VU`, `__ITER`, `open`. */
  globals: K6Member[]
}
