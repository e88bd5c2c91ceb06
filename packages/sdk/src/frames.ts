// `@stampede/sdk/frames`: the metric frames `followMetrics` yields (one per second of a run, format
// in packages/k6-output/FRAMES.md) and the functions that merge them and read quantiles, so a
// client needs nothing else to turn frames into requests/s or a p95.
export { FRAME_VERSION, binValue, mergeFrames, mergeSeries, parseFrames, quantile, seriesKey, type Bins, type Frame, type Merged, type MergedSeries, type MetricType, type Series } from '@stampede/k6-output'
