// The figures every bench lane prints: quantiles of sorted samples and fixed-point numbers.

/** The q-quantile of samples sorted ascending (nearest rank); NaN when there are none. */
export const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN

/** The median of samples in any order. */
export const median = (xs: readonly number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5)

/** A number with `digits` decimals; '–' when it is not finite (no samples). */
export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '–')
