package stampede

import (
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"go.k6.io/k6/v2/metrics"

	"stampede.local/k6-output/frame"
)

// target is where one k6 time series' samples go: the metric's total series and, if the sample
// has any kept tag, one tagged series (or the metric's overflow series once the cap is hit).
type target struct {
	total  *seriesID
	tagged *seriesID // nil when the sample carries none of the kept tags
}

type seriesID struct {
	key      string
	metric   *metrics.Metric
	tags     map[string]string
	overflow bool
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

	// byTimeSeries caches the routing of each k6 time series (k6 interns tag sets, so the
	// pointer pair is a cheap, stable key).
	byTimeSeries map[metrics.TimeSeries]target
	// ids holds every series seen in the run, by key; tagged counts those with tags.
	ids    map[string]*seriesID
	tagged int
	capHit bool

	period map[*seriesID]*accumulator
}

func newAggregator(maxSeries int, onCap func(int)) *aggregator {
	return &aggregator{
		maxSeries:    maxSeries,
		onCap:        onCap,
		byTimeSeries: map[metrics.TimeSeries]target{},
		ids:          map[string]*seriesID{},
		period:       map[*seriesID]*accumulator{},
	}
}

func (a *aggregator) add(s metrics.Sample) {
	v := s.Value
	// JSON cannot carry NaN or ±Inf, and they would poison sums and histograms.
	if math.IsNaN(v) || math.IsInf(v, 0) || s.Metric == nil {
		return
	}
	t, ok := a.byTimeSeries[s.TimeSeries]
	if !ok {
		t = a.route(s.TimeSeries)
		a.byTimeSeries[s.TimeSeries] = t
	}
	ms := s.Time.UnixMilli()
	a.acc(t.total).add(s.Metric.Type, v, ms)
	if t.tagged != nil {
		a.acc(t.tagged).add(s.Metric.Type, v, ms)
	}
}

func (a *aggregator) route(ts metrics.TimeSeries) target {
	t := target{total: a.id(ts.Metric, nil, false)}
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
		return t
	}
	key := frame.SeriesKey(ts.Metric.Name, tags, false)
	if id, ok := a.ids[key]; ok {
		t.tagged = id
		return t
	}
	if a.tagged >= a.maxSeries {
		if !a.capHit {
			a.capHit = true
			if a.onCap != nil {
				a.onCap(a.maxSeries)
			}
		}
		t.tagged = a.id(ts.Metric, nil, true)
		return t
	}
	a.tagged++
	t.tagged = a.id(ts.Metric, tags, false)
	return t
}

func (a *aggregator) id(m *metrics.Metric, tags map[string]string, overflow bool) *seriesID {
	key := frame.SeriesKey(m.Name, tags, overflow)
	if id, ok := a.ids[key]; ok {
		return id
	}
	id := &seriesID{key: key, metric: m, tags: tags, overflow: overflow}
	a.ids[key] = id
	return id
}

func (a *aggregator) acc(id *seriesID) *accumulator {
	acc, ok := a.period[id]
	if !ok {
		acc = &accumulator{id: id, min: math.Inf(1), max: math.Inf(-1)}
		if id.metric.Type == metrics.Trend {
			acc.sketch = frame.NewSketch()
		}
		a.period[id] = acc
	}
	return acc
}

func (c *accumulator) add(typ metrics.MetricType, v float64, ms int64) {
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

// flush returns the period's series (sorted by key) and starts a new period.
func (a *aggregator) flush() []frame.Series {
	out := make([]frame.Series, 0, len(a.period))
	for id, c := range a.period {
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
	a.period = make(map[*seriesID]*accumulator, len(a.period))
	return out
}

func ptr[T any](v T) *T { return &v }
