package stampede

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"go.k6.io/k6/v2/metrics"
	"go.k6.io/k6/v2/output"

	"stampede.local/k6-output/frame"
)

type fixture struct {
	reg                               *metrics.Registry
	reqs, dur, checks, vus, noTagsCnt *metrics.Metric
}

func newFixture() *fixture {
	reg := metrics.NewRegistry()
	return &fixture{
		reg:       reg,
		reqs:      reg.MustNewMetric("http_reqs", metrics.Counter),
		dur:       reg.MustNewMetric("http_req_duration", metrics.Trend, metrics.Time),
		checks:    reg.MustNewMetric("checks", metrics.Rate),
		vus:       reg.MustNewMetric("vus", metrics.Gauge),
		noTagsCnt: reg.MustNewMetric("plain", metrics.Counter),
	}
}

func (f *fixture) sample(m *metrics.Metric, v float64, at time.Time, tags map[string]string) metrics.Sample {
	return metrics.Sample{
		TimeSeries: metrics.TimeSeries{Metric: m, Tags: f.reg.RootTagSet().WithTagsFromMap(tags)},
		Time:       at,
		Value:      v,
	}
}

func byKey(series []frame.Series) map[string]frame.Series {
	out := map[string]frame.Series{}
	for _, s := range series {
		out[s.Key()] = s
	}
	return out
}

func TestAggregatorKeepsTotalsAndTaggedSeries(t *testing.T) {
	f := newFixture()
	a := newAggregator(100, nil)
	t0 := time.UnixMilli(1_000_000)
	home := map[string]string{"name": "home", "method": "GET", "status": "200", "url": "http://x/home?id=1", "proto": "HTTP/1.1"}
	for i, v := range []float64{10, 20, 30} {
		a.add(f.sample(f.reqs, 1, t0, home))
		a.add(f.sample(f.dur, v, t0.Add(time.Duration(i)*time.Millisecond), home))
	}
	a.add(f.sample(f.checks, 1, t0, map[string]string{"check": "ok"}))
	a.add(f.sample(f.checks, 0, t0, map[string]string{"check": "ok"}))
	a.add(f.sample(f.vus, 5, t0.Add(2*time.Millisecond), nil))
	a.add(f.sample(f.vus, 3, t0.Add(1*time.Millisecond), nil)) // older sample arriving later
	a.add(f.sample(f.noTagsCnt, 2.5, t0, map[string]string{"custom": "dropped"}))

	got := byKey(a.flush())
	kept := map[string]string{"name": "home", "method": "GET", "status": "200"}
	if s := got[frame.SeriesKey("http_reqs", nil, false)]; s.Count != 3 || *s.Sum != 3 {
		t.Errorf("http_reqs total: %+v", s)
	}
	if s := got[frame.SeriesKey("http_reqs", kept, false)]; s.Count != 3 || *s.Sum != 3 {
		t.Errorf("http_reqs tagged (url and proto dropped): %+v", s)
	}
	d := got[frame.SeriesKey("http_req_duration", kept, false)]
	if d.Count != 3 || *d.Sum != 60 || *d.Min != 10 || *d.Max != 30 || d.Bins.Total() != 3 || d.Contains != "time" {
		t.Errorf("http_req_duration: %+v", d)
	}
	if s := got[frame.SeriesKey("checks", map[string]string{"check": "ok"}, false)]; s.Count != 2 || *s.Passes != 1 {
		t.Errorf("checks: %+v", s)
	}
	if s := got[frame.SeriesKey("vus", nil, false)]; *s.Last != 5 || *s.Min != 3 || *s.Max != 5 {
		t.Errorf("vus: %+v", s)
	}
	if s, ok := got[frame.SeriesKey("plain", nil, false)]; !ok || *s.Sum != 2.5 || len(got) != 8 {
		t.Errorf("plain counter with only unkept tags should have only its total series; got %d series", len(got))
	}
	if rest := a.flush(); len(rest) != 0 {
		t.Errorf("a flush starts a new period, but the next flush returned %d series", len(rest))
	}
}

func TestAggregatorCapsTaggedSeriesAndWarnsOnce(t *testing.T) {
	f := newFixture()
	warned := 0
	a := newAggregator(3, func(n int) {
		if n != 3 {
			t.Errorf("cap %d", n)
		}
		warned++
	})
	t0 := time.UnixMilli(0)
	var frames []frame.Frame
	for period := 0; period < 3; period++ {
		for i := 0; i < 50; i++ {
			a.add(f.sample(f.reqs, 1, t0, map[string]string{"name": fmt.Sprintf("http://x/%d", i)}))
		}
		frames = append(frames, frame.Frame{V: frame.Version, Mapping: frame.DefaultMapping(), Series: a.flush()})
	}
	if warned != 1 {
		t.Fatalf("warned %d times", warned)
	}
	m, err := frame.Merge(frames)
	if err != nil {
		t.Fatal(err)
	}
	tagged, overflow, total := 0, uint64(0), uint64(0)
	for _, s := range m.Series {
		switch {
		case s.Overflow:
			overflow = s.Count
		case len(s.Tags) > 0:
			tagged++
		default:
			total = s.Count
		}
	}
	// The first three names keep their series in every period; the rest go to the overflow.
	if tagged != 3 || overflow != 3*47 || total != 150 {
		t.Fatalf("tagged %d, overflow %d, total %d", tagged, overflow, total)
	}
}

func TestOutputWritesFramesAndAFinalOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "frames.ndjson")
	logger, hook := logtest.NewNullLogger()
	o, err := New(output.Params{ConfigArgument: path, Logger: logger, Environment: map[string]string{MaxSeriesEnv: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	out := o.(*Output)
	out.period = 50 * time.Millisecond
	if err := out.Start(); err != nil {
		t.Fatal(err)
	}
	f := newFixture()
	sent := 0
	for i := 0; i < 20; i++ {
		out.AddMetricSamples([]metrics.SampleContainer{metrics.Samples{
			f.sample(f.reqs, 1, time.Now(), map[string]string{"name": fmt.Sprintf("u%d", i%5)}),
		}})
		sent++
		if i == 10 {
			// Let at least one periodic flush happen before the rest arrives.
			waitForLines(t, path, 1)
		}
	}
	if err := out.Stop(); err != nil {
		t.Fatal(err)
	}

	frames := readFrames(t, path)
	if len(frames) < 2 {
		t.Fatalf("%d frames, want a periodic one and the final one", len(frames))
	}
	for i, fr := range frames {
		if fr.Seq != i || fr.End < fr.Start || (i > 0 && fr.Start != frames[i-1].End) || fr.Final != (i == len(frames)-1) {
			t.Fatalf("frame %d: seq %d, %d..%d, final %v", i, fr.Seq, fr.Start, fr.End, fr.Final)
		}
	}
	m, err := frame.Merge(frames)
	if err != nil {
		t.Fatal(err)
	}
	if s := byKey(m.Series)[frame.SeriesKey("http_reqs", nil, false)]; s.Count != uint64(sent) || *s.Sum != float64(sent) {
		t.Fatalf("total http_reqs %+v, sent %d", s, sent)
	}
	warnings := 0
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel && strings.Contains(e.Message, "more than 2 tagged metric series") {
			warnings++
		}
	}
	if warnings != 1 {
		t.Fatalf("%d cap warnings, want 1", warnings)
	}
}

func TestNewRejectsMissingPathAndBadCap(t *testing.T) {
	if _, err := New(output.Params{}); err == nil {
		t.Error("accepted an empty file argument")
	}
	if _, err := New(output.Params{ConfigArgument: "x", Environment: map[string]string{MaxSeriesEnv: "lots"}}); err == nil {
		t.Error("accepted a non-numeric cap")
	}
}

func readFrames(t *testing.T, path string) []frame.Frame {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var frames []frame.Frame
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var fr frame.Frame
		if err := json.Unmarshal(sc.Bytes(), &fr); err != nil {
			t.Fatalf("frame %d: %v", len(frames), err)
		}
		frames = append(frames, fr)
	}
	return frames
}

// waitForLines polls until the file has n complete lines (the output flushes each period).
func waitForLines(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.Count(string(b), "\n") >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not reach %d lines", path, n)
}

// The per-sample cost of the aggregation, as k6 calls it from its output loop: a request's
// samples (a trend, a counter, a rate) of a few tagged series, a frame flushed every 15,000
// requests (about a second of a CPU-bound run). `go test -bench Aggregator -run ^$`.
func BenchmarkAggregatorAdd(b *testing.B) {
	f := newFixture()
	at := time.Unix(1_700_000_000, 0)
	var samples []metrics.Sample
	for _, name := range []string{"home", "items", "login", "search"} {
		tags := map[string]string{"name": name, "method": "GET", "status": "200", "expected_response": "true", "scenario": "default"}
		samples = append(samples, f.sample(f.dur, 12.5, at, tags), f.sample(f.reqs, 1, at, tags), f.sample(f.checks, 1, at, tags))
	}
	agg := newAggregator(DefaultMaxSeries, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		agg.add(samples[i%len(samples)])
		if i%45_000 == 44_999 {
			agg.flush()
		}
	}
}
