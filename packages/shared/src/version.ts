// The API's compatibility level, shared by the API (which reports it from `meta.version`) and
// the SDK/CLI (which were built against it). Bump it on every change that breaks clients built
// against the previous level: a procedure removed or renamed, an input field made required, an
// output field removed or changed in meaning. Additions (new procedures, new optional inputs,
// new output fields) do not bump it: the API's version (its package.json) says those.
export const API_COMPAT = 1

/** What `meta.version` answers: the API's version (semver) and its compatibility level. */
export interface ApiVersionInfo {
  version: string
  apiCompat: number
}
