// Package frame defines Stampede's metric frame: what the Stampede k6 output writes once a
// second, and how frames merge. The format is described in ../FRAMES.md; this package and
// ../src/frames.ts are its two implementations and must agree.
//
// Everything in a frame merges exactly: counters and rate counts add, min/max combine, trend
// histograms add bin by bin (all frames use the same bin mapping), gauges keep the newest last
// value. Merging frames of several periods gives the run's totals; merging frames of several
// k6 instances for one period gives that period for the whole test.
package frame

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Version of the frame format.
const Version = 1

// RelativeAccuracy of the trend histograms: every value is represented by its bin's value with
// at most this relative error. 0.4 % keeps quantiles under the 0.5 % Stampede promises, with
// room for float rounding.
const RelativeAccuracy = 0.004

// Gamma is the ratio between neighbouring bin bounds: bin i holds values in [Gamma^i, Gamma^(i+1)).
var Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy)

// Metric types, as k6 names them.
const (
	Counter = "counter"
	Gauge   = "gauge"
	Rate    = "rate"
	Trend   = "trend"
)

// Mapping describes the trend bin mapping so that a reader needs no constants of its own.
type Mapping struct {
	// Kind is "log": bin i of positive values covers [Gamma^i, Gamma^(i+1)); negative values
	// use the same bins on their absolute value. Values with |v| below MinIndexable count as 0.
	Kind  string  `json:"kind"`
	Gamma float64 `json:"gamma"`
}

// DefaultMapping is the mapping every Stampede frame uses.
func DefaultMapping() Mapping { return Mapping{Kind: "log", Gamma: Gamma} }

// Frame is one line of the frames file.
type Frame struct {
	V int `json:"v"`
	// Seq numbers the frames of one k6 process from 0.
	Seq int `json:"seq"`
	// Start and End (Unix milliseconds) bound the period in which k6 handed the samples to the
	// output. Periods end on whole seconds, except the last one (at the end of the test).
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Final marks the last frame of the process (written when k6 stops the output).
	Final   bool     `json:"final,omitempty"`
	Mapping Mapping  `json:"mapping"`
	Series  []Series `json:"series"`
}

// Series is the aggregate of one metric over one tag set in one frame (or in merged frames).
type Series struct {
	Metric string `json:"metric"`
	Type   string `json:"type"`
	// Contains is k6's value type: "default", "time" (milliseconds) or "data" (bytes).
	Contains string `json:"contains,omitempty"`
	// Tags is the subset of the sample tags Stampede keeps (see KeptTags); empty for the
	// metric's total series.
	Tags map[string]string `json:"tags,omitempty"`
	// Overflow marks the series that collects a metric's samples whose tag set came after the
	// series cap was reached.
	Overflow bool `json:"overflow,omitempty"`
	// Count is the number of samples (for a rate: the total).
	Count uint64 `json:"count"`
	// Sum: counters and trends.
	Sum *float64 `json:"sum,omitempty"`
	// Passes: rates (samples with a non-zero value).
	Passes *uint64 `json:"passes,omitempty"`
	// Min and Max: gauges and trends.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Last and LastT (Unix ms of the sample): gauges.
	Last  *float64 `json:"last,omitempty"`
	LastT int64    `json:"last_t,omitempty"`
	// Bins: trends.
	Bins *Bins `json:"bins,omitempty"`
}

// KeptTags are the sample tags a tagged series is keyed by; other tags are dropped.
var KeptTags = []string{"scenario", "group", "name", "method", "status", "expected_response", "check"}

// Key identifies a series for merging: metric, tag set and overflow flag.
func (s *Series) Key() string { return SeriesKey(s.Metric, s.Tags, s.Overflow) }

// SeriesKey builds the merge key of a series.
func SeriesKey(metric string, tags map[string]string, overflow bool) string {
	var b strings.Builder
	b.WriteString(metric)
	if overflow {
		b.WriteString("\x00overflow")
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
	}
	return b.String()
}

// MergeSeries merges b into a (same key). a and b keep no shared pointers afterwards.
func MergeSeries(a *Series, b *Series) error {
	if a.Metric != b.Metric || a.Type != b.Type {
		return fmt.Errorf("cannot merge %s (%s) with %s (%s)", a.Metric, a.Type, b.Metric, b.Type)
	}
	a.Count += b.Count
	a.Sum = addPtr(a.Sum, b.Sum)
	if b.Passes != nil {
		p := *b.Passes
		if a.Passes != nil {
			p += *a.Passes
		}
		a.Passes = &p
	}
	a.Min = combine(a.Min, b.Min, math.Min)
	a.Max = combine(a.Max, b.Max, math.Max)
	if b.Last != nil && (a.Last == nil || b.LastT > a.LastT || (b.LastT == a.LastT && *b.Last > *a.Last)) {
		v := *b.Last
		a.Last, a.LastT = &v, b.LastT
	}
	if b.Bins != nil {
		if a.Bins == nil {
			a.Bins = &Bins{}
		}
		a.Bins.Merge(b.Bins)
	}
	return nil
}

// Merge merges frames (of any periods and any k6 instances) into one frame whose series are
// sorted by key. Mapping must be the same in all of them.
func Merge(frames []Frame) (Frame, error) {
	out := Frame{V: Version, Mapping: DefaultMapping()}
	byKey := map[string]*Series{}
	for i, f := range frames {
		if f.V != Version {
			return out, fmt.Errorf("frame %d: version %d, want %d", i, f.V, Version)
		}
		if f.Mapping.Kind != "log" || math.Abs(f.Mapping.Gamma-Gamma) > 1e-12 {
			return out, fmt.Errorf("frame %d: mapping %+v differs from %+v", i, f.Mapping, DefaultMapping())
		}
		if i == 0 || f.Start < out.Start {
			out.Start = f.Start
		}
		if f.End > out.End {
			out.End = f.End
		}
		for j := range f.Series {
			s := &f.Series[j]
			k := s.Key()
			cur, ok := byKey[k]
			if !ok {
				cur = &Series{Metric: s.Metric, Type: s.Type, Contains: s.Contains, Tags: s.Tags, Overflow: s.Overflow}
				byKey[k] = cur
			}
			if err := MergeSeries(cur, s); err != nil {
				return out, err
			}
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out.Series = make([]Series, 0, len(keys))
	for _, k := range keys {
		out.Series = append(out.Series, *byKey[k])
	}
	return out, nil
}

// Quantile estimates the q-quantile (0..1) of a trend series the way k6's summary computes it
// (linear interpolation between the order statistics at floor and ceil of q*(count-1)), with the
// order statistics taken from the bins and clamped to [Min, Max]. The result is within
// RelativeAccuracy of k6's exact value.
func Quantile(s *Series, q float64) (float64, bool) {
	if s.Bins == nil || s.Count == 0 || s.Min == nil || s.Max == nil {
		return 0, false
	}
	rank := q * float64(s.Count-1)
	lo := math.Floor(rank)
	hi := math.Ceil(rank)
	vlo := s.Bins.ValueAtRank(uint64(lo))
	vhi := vlo
	if hi != lo {
		vhi = s.Bins.ValueAtRank(uint64(hi))
	}
	clamp := func(v float64) float64 { return math.Max(*s.Min, math.Min(*s.Max, v)) }
	vlo, vhi = clamp(vlo), clamp(vhi)
	return vlo + (vhi-vlo)*(rank-lo), true
}

func addPtr(a, b *float64) *float64 {
	if b == nil {
		return a
	}
	v := *b
	if a != nil {
		v += *a
	}
	return &v
}

func combine(a, b *float64, f func(x, y float64) float64) *float64 {
	if b == nil {
		return a
	}
	v := *b
	if a != nil {
		v = f(*a, v)
	}
	return &v
}
