// "Now" for relative times ("in 4 s") that count down while a page is open: one reactive
// timestamp per component, ticking only while the component that started it is mounted.
export class Clock {
  now = $state(Date.now())

  /** Starts ticking; returns the stop function (an $effect's cleanup). */
  start(intervalMs = 1000): () => void {
    this.now = Date.now()
    const timer = setInterval(() => (this.now = Date.now()), intervalMs)
    return () => clearInterval(timer)
  }
}
