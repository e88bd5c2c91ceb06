package frame

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
)

// k6Percentile is k6's TrendSink.P: linear interpolation between neighbouring order statistics.
func k6Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	i := q * float64(len(sorted)-1)
	j, k := sorted[int(math.Floor(i))], sorted[int(math.Ceil(i))]
	return j + (k-j)*(i-math.Floor(i))
}

// logNormalMs draws delays spread from about 1 ms to 2 s (median ~45 ms), clamped to that range.
func logNormalMs(r *rand.Rand) float64 {
	v := math.Exp(math.Log(45) + 1.27*r.NormFloat64())
	return math.Max(1, math.Min(2000, v))
}

// trendFrames splits values into frames of perFrame samples, as the output would per period,
// and sends each through JSON as a reader would receive it.
func trendFrames(t *testing.T, values []float64, perFrame int) []Frame {
	t.Helper()
	var frames []Frame
	for start := 0; start < len(values); start += perFrame {
		chunk := values[start:min(start+perFrame, len(values))]
		sk := NewSketch()
		s := Series{Metric: "http_req_duration", Type: Trend, Contains: "time", Count: uint64(len(chunk))}
		sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
		for _, v := range chunk {
			if err := sk.Add(v); err != nil {
				t.Fatal(err)
			}
			sum += v
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		s.Sum, s.Min, s.Max, s.Bins = &sum, &lo, &hi, BinsFromSketch(sk)
		f := Frame{V: Version, Seq: len(frames), Start: int64(len(frames)) * 1000, End: int64(len(frames)+1) * 1000, Mapping: DefaultMapping(), Series: []Series{s}}
		frames = append(frames, roundTrip(t, f))
	}
	return frames
}

func roundTrip(t *testing.T, f Frame) Frame {
	t.Helper()
	line, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back Frame
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

func TestQuantilesOfMergedFramesStayWithinTheBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 101, 1000, 50_000} {
		values := make([]float64, n)
		for i := range values {
			values[i] = logNormalMs(r)
		}
		merged, err := Merge(trendFrames(t, values, 997))
		if err != nil {
			t.Fatal(err)
		}
		if len(merged.Series) != 1 {
			t.Fatalf("n=%d: %d series after merge", n, len(merged.Series))
		}
		s := merged.Series[0]
		sorted := append([]float64(nil), values...)
		sort.Float64s(sorted)
		if s.Count != uint64(n) || s.Bins.Total() != uint64(n) || *s.Min != sorted[0] || *s.Max != sorted[n-1] {
			t.Fatalf("n=%d: count %d, bins %d, min %v, max %v", n, s.Count, s.Bins.Total(), *s.Min, *s.Max)
		}
		worst := 0.0
		for q := 0.0; q <= 1.0; q += 0.001 {
			want := k6Percentile(sorted, q)
			got, ok := Quantile(&s, q)
			if !ok {
				t.Fatal("no quantile")
			}
			worst = math.Max(worst, math.Abs(got-want)/want)
		}
		for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999, 1} {
			want := k6Percentile(sorted, q)
			got, _ := Quantile(&s, q)
			worst = math.Max(worst, math.Abs(got-want)/want)
		}
		if worst > RelativeAccuracy*(1+1e-9) {
			t.Errorf("n=%d: worst relative quantile error %.5f%% > %.2f%%", n, worst*100, RelativeAccuracy*100)
		}
		t.Logf("n=%d: worst relative quantile error %.4f%%", n, worst*100)
	}
}

func TestQuantilesHandleZeroAndNegativeValues(t *testing.T) {
	values := []float64{-50, -3.5, -3.5, 0, 0, 0, 2, 7.25, 1000}
	merged, err := Merge(trendFrames(t, values, 4))
	if err != nil {
		t.Fatal(err)
	}
	s := merged.Series[0]
	if s.Bins.Zero != 3 || s.Bins.Total() != uint64(len(values)) {
		t.Fatalf("zero %d total %d", s.Bins.Zero, s.Bins.Total())
	}
	for _, q := range []float64{0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1} {
		want := k6Percentile(values, q)
		got, _ := Quantile(&s, q)
		if math.Abs(got-want) > RelativeAccuracy*math.Abs(want)+1e-12 {
			t.Errorf("q=%v: got %v, want %v", q, got, want)
		}
	}
}

func series(metric, typ string, tags map[string]string) Series {
	return Series{Metric: metric, Type: typ, Tags: tags}
}

func f64(v float64) *float64 { return &v }
func u64(v uint64) *uint64   { return &v }

func TestMergeAddsCountersAndRatesAndCombinesGauges(t *testing.T) {
	name := map[string]string{"name": "home"}
	a := Frame{V: Version, Start: 1000, End: 2000, Mapping: DefaultMapping(), Series: []Series{
		func() Series { s := series("http_reqs", Counter, name); s.Count, s.Sum = 3, f64(3); return s }(),
		func() Series { s := series("checks", Rate, nil); s.Count, s.Passes = 10, u64(7); return s }(),
		func() Series {
			s := series("vus", Gauge, nil)
			s.Count, s.Min, s.Max, s.Last, s.LastT = 2, f64(4), f64(9), f64(9), 1900
			return s
		}(),
	}}
	b := Frame{V: Version, Start: 2000, End: 3000, Mapping: DefaultMapping(), Series: []Series{
		func() Series { s := series("http_reqs", Counter, name); s.Count, s.Sum = 5, f64(5); return s }(),
		func() Series { s := series("http_reqs", Counter, nil); s.Count, s.Sum = 5, f64(5); return s }(),
		func() Series { s := series("checks", Rate, nil); s.Count, s.Passes = 4, u64(0); return s }(),
		func() Series {
			s := series("vus", Gauge, nil)
			s.Count, s.Min, s.Max, s.Last, s.LastT = 1, f64(2), f64(2), f64(2), 2500
			return s
		}(),
	}}
	m, err := Merge([]Frame{roundTrip(t, b), roundTrip(t, a)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Start != 1000 || m.End != 3000 {
		t.Fatalf("period %d..%d", m.Start, m.End)
	}
	got := map[string]Series{}
	for _, s := range m.Series {
		got[s.Key()] = s
	}
	if s := got[SeriesKey("http_reqs", name, false)]; s.Count != 8 || *s.Sum != 8 {
		t.Errorf("http_reqs{name=home}: %+v", s)
	}
	if s := got[SeriesKey("checks", nil, false)]; s.Count != 14 || *s.Passes != 7 {
		t.Errorf("checks: %+v", s)
	}
	if s := got[SeriesKey("vus", nil, false)]; *s.Min != 2 || *s.Max != 9 || *s.Last != 2 || s.LastT != 2500 || s.Count != 3 {
		t.Errorf("vus: %+v", s)
	}
}

func TestMergeIsOrderAndGroupingIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	values := make([]float64, 5000)
	for i := range values {
		values[i] = logNormalMs(r)
	}
	frames := trendFrames(t, values, 300)
	all, err := Merge(frames)
	if err != nil {
		t.Fatal(err)
	}
	// Two "instances" merged separately, then together, in reverse order.
	var odd, even []Frame
	for i, f := range frames {
		if i%2 == 0 {
			even = append(even, f)
		} else {
			odd = append(odd, f)
		}
	}
	mo, _ := Merge(odd)
	me, _ := Merge(even)
	grouped, err := Merge([]Frame{roundTrip(t, mo), roundTrip(t, me)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := all.Series[0], grouped.Series[0]
	if !reflect.DeepEqual(a.Bins, b.Bins) || a.Count != b.Count || *a.Min != *b.Min || *a.Max != *b.Max {
		t.Fatal("merging in groups changed the histogram or its statistics")
	}
	if math.Abs(*a.Sum-*b.Sum) > 1e-9**a.Sum {
		t.Fatalf("sums differ: %v vs %v", *a.Sum, *b.Sum)
	}
}

func TestBinRunsRoundTrip(t *testing.T) {
	b := &Bins{Zero: 4, Pos: map[int]uint64{-3: 1, -2: 2, 0: 5, 10: 1, 11: 9}, Neg: map[int]uint64{7: 2}}
	line, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"zero":4,"pos":[[-3,1,2,0,5],[10,1,9]],"neg":[[7,2]]}`; string(line) != want {
		t.Fatalf("encoded %s, want %s", line, want)
	}
	var back Bins
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, b) {
		t.Fatalf("round trip: %+v != %+v", back, *b)
	}
}

func TestMergeRejectsAnotherMappingOrVersion(t *testing.T) {
	if _, err := Merge([]Frame{{V: Version, Mapping: Mapping{Kind: "log", Gamma: 1.02}}}); err == nil {
		t.Error("merged a frame with another gamma")
	}
	if _, err := Merge([]Frame{{V: 2, Mapping: DefaultMapping()}}); err == nil {
		t.Error("merged a frame of another version")
	}
}

func TestBinValueMatchesTheDocumentedFormula(t *testing.T) {
	for _, i := range []int{-500, -1, 0, 1, 700, 1000} {
		want := math.Pow(Gamma, float64(i)) * 2 * Gamma / (1 + Gamma)
		if got := BinValue(i); math.Abs(got-want) > 1e-12*want {
			t.Errorf("BinValue(%d) = %v, want %v", i, got, want)
		}
	}
}
