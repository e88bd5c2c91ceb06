// Connection URLs carry passwords; every message this package prints or throws goes through
// these helpers so a password never reaches a log, a terminal or an error report.

const MASK = '***'

/** The URL with its password (userinfo or `password=` query parameter) replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = MASK
    for (const key of [...parsed.searchParams.keys()]) {
      if (/^(password|pass|sslpassword)$/i.test(key)) parsed.searchParams.set(key, MASK)
    }
    return parsed.toString()
  } catch {
    // Not a WHATWG URL (e.g. a malformed one): mask anything that looks like userinfo.
    return url
      .replace(/(\/\/[^:/@]*:)[^@/]*@/, `$1${MASK}@`)
      .replace(/((?:^|[?&\s])(?:password|pass|sslpassword)=)[^&\s]*/gi, `$1${MASK}`)
  }
}

/** `text` with every occurrence of the URL, and of its password, masked. */
export function redactSecrets(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url))
  for (const secret of passwordsIn(url)) out = out.split(secret).join(MASK)
  return out
}

function passwordsIn(url: string): string[] {
  const found: string[] = []
  try {
    const parsed = new URL(url)
    if (parsed.password) found.push(parsed.password, safeDecode(parsed.password))
    for (const [key, value] of parsed.searchParams) {
      if (/^(password|pass|sslpassword)$/i.test(key) && value) found.push(value)
    }
  } catch {
    const match = /\/\/[^:/@]*:([^@/]*)@/.exec(url)
    if (match?.[1]) found.push(match[1])
  }
  // Longest first so a password containing another is masked whole. Even a one-letter
  // password is masked: mangled text is better than a leaked secret.
  return [...new Set(found)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
