// Who is signed in and which project the UI shows. Loaded once from auth.me at start-up and
// replaced by the answer of login, bootstrap or acceptInvite; the current project is remembered
// per browser (localStorage) and falls back to the first project the user belongs to.
import type { Permission } from '@stampede/shared'
import { api, apiBaseUrl, describeError, errorCode, handleSessionEnded, setCsrfToken, type RouterOutputs } from '../api/client.ts'
import { chooseProject, projectAllows, type ProjectAccessRole } from './access.ts'

export type Me = RouterOutputs['auth']['me']
export type SessionState = 'loading' | 'signed-in' | 'signed-out' | 'error'

const PROJECT_KEY = 'stampede.projectId'

function remembered(): string | null {
  try {
    return localStorage.getItem(PROJECT_KEY)
  } catch {
    return null
  }
}

function remember(projectId: string | null): void {
  try {
    if (projectId) localStorage.setItem(PROJECT_KEY, projectId)
    else localStorage.removeItem(PROJECT_KEY)
  } catch {
    // Storage can be unavailable (private mode, policies); the choice then lasts for the tab.
  }
}

export class Session {
  me = $state.raw<Me | null>(null)
  state = $state<SessionState>('loading')
  error = $state<string | null>(null)
  projectId = $state<string | null>(null)
  /** The user signed out here (rather than the session ending): there is no page to return to. */
  signedOutHere = $state(false)

  readonly projects = $derived(this.me?.projects ?? [])
  readonly project = $derived(this.projects.find((p) => p.id === this.projectId) ?? null)
  readonly role = $derived<ProjectAccessRole | null>(this.project?.role ?? null)

  constructor() {
    handleSessionEnded(() => this.ended())
  }

  /** Asks the API who is signed in (at start-up, and after projects change). */
  async load(): Promise<void> {
    if (!this.me) this.state = 'loading'
    try {
      this.signedIn(await api.auth.me.query())
    } catch (err) {
      if (errorCode(err) === 'UNAUTHORIZED') return this.ended()
      this.error = describeError(err)
      this.state = this.me ? 'signed-in' : 'error'
    }
  }

  /** Takes the answer of auth.me, login, bootstrap or acceptInvite. */
  signedIn(me: Me): void {
    setCsrfToken(me.csrfToken)
    this.me = me
    this.error = null
    this.signedOutHere = false
    this.state = 'signed-in'
    this.projectId = chooseProject(me.projects, this.projectId ?? remembered())
    remember(this.projectId)
  }

  /**
   * Takes the answer of login, bootstrap or acceptInvite once the browser has shown it keeps the
   * session cookie. A browser refuses a `SameSite=Strict` cookie from an API on another site
   * (UI on localhost, API on 127.0.0.1): without this check that looks like a sign-in loop.
   */
  async signedInWithCookie(answer: Me): Promise<void> {
    setCsrfToken(answer.csrfToken)
    try {
      this.signedIn(await api.auth.me.query())
    } catch (err) {
      if (errorCode(err) !== 'UNAUTHORIZED') throw err
      throw new Error(
        `the API accepted the sign-in, but this browser did not keep its session cookie: open Stampede on the same host as its API (${apiBaseUrl()}), not ${location.host}`,
      )
    }
  }

  /** The session is gone (signed out here or elsewhere, expired): forget everything about it. */
  ended(signedOutHere = false): void {
    setCsrfToken(null)
    this.me = null
    this.error = null
    this.signedOutHere = signedOutHere
    this.state = 'signed-out'
  }

  selectProject(projectId: string): void {
    if (!this.projects.some((p) => p.id === projectId)) return
    this.projectId = projectId
    remember(projectId)
  }

  /** Whether the signed-in user may do what `permission` covers in a project (default: the current one). */
  can(permission: Permission, projectId: string | null = this.projectId): boolean {
    return projectAllows(this.roleIn(projectId), permission)
  }

  roleIn(projectId: string | null): ProjectAccessRole | null {
    return this.projects.find((p) => p.id === projectId)?.role ?? null
  }

  /** Ends this browser's session, or every session of the user. Throws when the API could not be told. */
  async signOut(everywhere = false): Promise<void> {
    await (everywhere ? api.auth.logoutEverywhere.mutate() : api.auth.logout.mutate())
    this.ended(true)
  }
}

export const session = new Session()
