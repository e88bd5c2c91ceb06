package stampede

import (
	"math"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"go.k6.io/k6/v2/metrics"

	"stampede.local/k6-output/frame"
)

// Every sample is counted once, in one "leaf" series: its tagged series (or the metric's
// overflow series once the cap is hit), or, when it carries none of the kept tags, the metric's
// total series itself. The total series of a metric is completed at flush by merging its tagged
// and overflow leaves into it: the per-sample work is one accumulator update instead of two,
// which matters at tens of thousands of requests per second (k6 emits about 13 samples each).

type seriesID struct {
	key      string
	metric   *metrics.Metric
	tags     map[string]string
	overflow bool
	// total is the metric's total series; nil when this is the total series.
	total *seriesID
	// cur is this series' accumulator in the current period (nil: no sample yet), so a sample
	// costs one map lookup (its time series' leaf), not two.
	cur *accumulator
}

// accumulator is one series' state within the current period.
type accumulator struct {
	id       *seriesID
	count    uint64
	sum      float64
	passes   uint64
	min, max float64
	last     float64
	lastT    int64
	sketch   *ddsketch.DDSketch
}

// aggregator turns samples into per-period series. Not safe for concurrent use: the output
// calls it from its flush goroutine only.
type aggregator struct {
	maxSeries int
	// onCap is called once, when the first tag set is turned away by the cap.
	onCap func(maxSeries int)

	// byTimeSeries caches the leaf of each k6 time series (k6 interns tag sets, so the pointer
	// pair is a cheap, stable key).
	byTimeSeries map[metrics.TimeSeries]*seriesID
	// ids holds every series seen in the run, by key; tagged counts those with tags.
	ids    map[string]*seriesID
	tagged int
	capHit bool

	// period holds the current period's accumulators, in the order their series first had a sample.
	period []*accumulator
}

func newAggregator(maxSeries int, onCap func(int)) *aggregator {
	return &aggregator{
		maxSeries:    maxSeries,
		onCap:        onCap,
		byTimeSeries: map[metrics.TimeSeries]*seriesID{},
		ids:          map[string]*seriesID{},
	}
}

func (a *aggregator) add(s metrics.Sample) {
	v := s.Value
	// JSON cannot carry NaN or ±Inf, and they would poison sums and histograms.
	if math.IsNaN(v) || math.IsInf(v, 0) || s.Metric == nil {
		return
	}
	leaf, ok := a.byTimeSeries[s.TimeSeries]
	if !ok {
		leaf = a.route(s.TimeSeries)
		a.byTimeSeries[s.TimeSeries] = leaf
	}
	a.acc(leaf).add(s.Metric.Type, v, s.Time)
}

// route picks the leaf series of a k6 time series.
func (a *aggregator) route(ts metrics.TimeSeries) *seriesID {
	total := a.id(ts.Metric, nil, false, nil)
	var tags map[string]string
	if ts.Tags != nil {
		for _, k := range frame.KeptTags {
			if v, ok := ts.Tags.Get(k); ok {
				if tags == nil {
					tags = map[string]string{}
				}
				tags[k] = v
			}
		}
	}
	if tags == nil {
		return total
	}
	key := frame.SeriesKey(ts.Metric.Name, tags, false)
	if id, ok := a.ids[key]; ok {
		return id
	}
	if a.tagged >= a.maxSeries {
		if !a.capHit {
			a.capHit = true
			if a.onCap != nil {
				a.onCap(a.maxSeries)
			}
		}
		return a.id(ts.Metric, nil, true, total)
	}
	a.tagged++
	return a.id(ts.Metric, tags, false, total)
}

func (a *aggregator) id(m *metrics.Metric, tags map[string]string, overflow bool, total *seriesID) *seriesID {
	key := frame.SeriesKey(m.Name, tags, overflow)
	if id, ok := a.ids[key]; ok {
		return id
	}
	id := &seriesID{key: key, metric: m, tags: tags, overflow: overflow, total: total}
	a.ids[key] = id
	return id
}

func (a *aggregator) acc(id *seriesID) *accumulator {
	if id.cur != nil {
		return id.cur
	}
	acc := &accumulator{id: id, min: math.Inf(1), max: math.Inf(-1)}
	if id.metric.Type == metrics.Trend {
		acc.sketch = frame.NewSketch()
	}
	id.cur = acc
	a.period = append(a.period, acc)
	return acc
}

func (c *accumulator) add(typ metrics.MetricType, v float64, at time.Time) {
	c.count++
	switch typ {
	case metrics.Counter:
		c.sum += v
	case metrics.Rate:
		if v != 0 {
			c.passes++
		}
	case metrics.Gauge:
		c.min = math.Min(c.min, v)
		c.max = math.Max(c.max, v)
		// Samples of one flush may arrive out of time order; keep the newest.
		ms := at.UnixMilli()
		if c.count == 1 || ms >= c.lastT {
			c.last, c.lastT = v, ms
		}
	case metrics.Trend:
		c.sum += v
		c.min = math.Min(c.min, v)
		c.max = math.Max(c.max, v)
		_ = c.sketch.Add(v) // errors only for values outside ±1.8e308, excluded above
	}
}

// merge adds a leaf's period into its metric's total (the rules of frame.MergeSeries: a gauge
// keeps the newest last value, the larger one on a tie).
func (c *accumulator) merge(typ metrics.MetricType, leaf *accumulator) {
	first := c.count == 0
	c.count += leaf.count
	c.sum += leaf.sum
	c.passes += leaf.passes
	c.min = math.Min(c.min, leaf.min)
	c.max = math.Max(c.max, leaf.max)
	switch typ {
	case metrics.Gauge:
		if first || leaf.lastT > c.lastT || (leaf.lastT == c.lastT && leaf.last > c.last) {
			c.last, c.lastT = leaf.last, leaf.lastT
		}
	case metrics.Trend:
		_ = c.sketch.MergeWith(leaf.sketch) // same mapping by construction
	}
}

// flush returns the period's series (sorted by key) and starts a new period.
func (a *aggregator) flush() []frame.Series {
	// Complete the totals from their leaves (the leaves first: acc appends totals to the period).
	leaves := a.period
	for _, leaf := range leaves {
		if leaf.id.total != nil {
			a.acc(leaf.id.total).merge(leaf.id.metric.Type, leaf)
		}
	}
	out := make([]frame.Series, 0, len(a.period))
	for _, c := range a.period {
		id := c.id
		id.cur = nil
		s := frame.Series{
			Metric:   id.metric.Name,
			Type:     id.metric.Type.String(),
			Contains: id.metric.Contains.String(),
			Tags:     id.tags,
			Overflow: id.overflow,
			Count:    c.count,
		}
		switch id.metric.Type {
		case metrics.Counter:
			s.Sum = ptr(c.sum)
		case metrics.Rate:
			s.Passes = &c.passes
		case metrics.Gauge:
			s.Min, s.Max, s.Last, s.LastT = ptr(c.min), ptr(c.max), ptr(c.last), c.lastT
		case metrics.Trend:
			s.Sum, s.Min, s.Max = ptr(c.sum), ptr(c.min), ptr(c.max)
			s.Bins = frame.BinsFromSketch(c.sketch)
		}
		out = append(out, s)
	}
	sortSeries(out)
	a.period = make([]*accumulator, 0, len(a.period))
	return out
}

func ptr[T any](v T) *T { return &v }
