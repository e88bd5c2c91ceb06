// The account form of the setup and invitation pages: the new password is checked here before
// the API is asked, then the new account is signed in and the app opens.
import { goto } from '$app/navigation'
import { resolve } from '$app/paths'
import { describeError, errorCode } from '../api/client.ts'
import { session, type Me } from './session.svelte.ts'
import { newPasswordProblem } from './sign-in.ts'

export class NewAccount {
  password = $state('')
  confirmation = $state('')
  busy = $state(false)
  error = $state<string | null>(null)
  /** The API refused with CONFLICT (an account exists already, the invitation was used): offer to sign in. */
  conflict = $state(false)

  /** Creates the account with `create` (the API call, given the checked password) and signs it in. */
  async submit(create: (password: string) => Promise<Me>): Promise<void> {
    this.error = newPasswordProblem(this.password, this.confirmation)
    if (this.error) return
    this.busy = true
    try {
      await session.signedInWithCookie(await create(this.password))
      await goto(resolve('/'), { replaceState: true })
    } catch (err) {
      this.error = describeError(err)
      this.conflict = errorCode(err) === 'CONFLICT'
    } finally {
      this.busy = false
    }
  }
}
