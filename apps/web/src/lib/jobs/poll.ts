// Refreshing a page's data while it is open: one task at a time (a slow answer never piles up
// requests), paused while the tab is hidden, at an interval the caller may change as it goes
// (faster while a firing runs).
export function poll(task: () => Promise<void>, intervalMs: () => number): () => void {
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const tick = async () => {
    if (stopped) return
    if (typeof document === 'undefined' || document.visibilityState !== 'hidden') {
      try {
        await task()
      } catch {
        // The task reports its own errors (Query keeps them); polling goes on.
      }
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs())
  }
  timer = setTimeout(() => void tick(), intervalMs())
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
