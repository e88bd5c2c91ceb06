// Package stampede is Stampede's k6 output extension: `k6 run --out stampede=frames.ndjson`
// writes one metric frame per second (see FRAMES.md) to the given file, aggregated in the k6
// process so that neither the file nor its readers carry every sample.
package stampede

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"go.k6.io/k6/v2/metrics"
	"go.k6.io/k6/v2/output"

	"stampede.local/k6-output/frame"
)

// Name is the output's name on the k6 command line.
const Name = "stampede"

// MaxSeriesEnv sets the cap on tagged series per run.
const MaxSeriesEnv = "K6_STAMPEDE_MAX_SERIES"

// DefaultMaxSeries is the cap when MaxSeriesEnv is unset.
const DefaultMaxSeries = 1000

// SourceStamp identifies the extension source this binary was built from. Stampede's tool build
// sets it with `-ldflags -X stampede.local/k6-output.SourceStamp=stampede-k6-output-source:<hash>`
// and the tool cache finds that string in the binary to decide whether a cached k6 is current
// (`-trimpath` keeps ldflags out of the Go build info, so the stamp is a plain string in the
// binary's data). Only the -X value contains the prefix, so it occurs once in the binary.
var SourceStamp = "unstamped"

func init() {
	output.RegisterExtension(Name, New)
}

// Output implements k6's output.Output. Samples are aggregated as k6 hands them over
// (AddMetricSamples), not buffered until the next flush as output.SampleBuffer would: a second of
// a saturating test is hundreds of thousands of samples, which buffering would keep alive (and
// the garbage collector would scan) only to fold them into a few hundred series.
type Output struct {
	path      string
	maxSeries int
	logger    logrus.FieldLogger
	period    time.Duration
	now       func() time.Time

	file  io.WriteCloser
	w     *bufio.Writer
	agg   *aggregator
	seq   int
	start time.Time

	mu      sync.Mutex // guards agg, w and the period (AddMetricSamples, the ticker and Stop)
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	werr    error
}

// New is the constructor k6 calls for `--out stampede=<path>`.
func New(p output.Params) (output.Output, error) {
	if p.ConfigArgument == "" {
		return nil, errors.New("the stampede output needs a file: --out stampede=<path>")
	}
	maxSeries := DefaultMaxSeries
	if v, ok := p.Environment[MaxSeriesEnv]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s=%q: want a non-negative integer", MaxSeriesEnv, v)
		}
		maxSeries = n
	}
	logger := p.Logger
	if logger == nil {
		logger = logrus.StandardLogger()
	}
	return &Output{
		path:      p.ConfigArgument,
		maxSeries: maxSeries,
		logger:    logger.WithField("output", Name),
		period:    time.Second,
		now:       time.Now,
	}, nil
}

// Description is shown by `k6 run` next to "output:".
func (o *Output) Description() string {
	return fmt.Sprintf("%s (%s, 1 s frames, at most %d tagged series, %s)", Name, o.path, o.maxSeries, SourceStamp)
}

// Start opens the file and starts the once-a-second flush.
func (o *Output) Start() error {
	f, err := os.Create(o.path)
	if err != nil {
		return fmt.Errorf("stampede output: %w", err)
	}
	o.file = f
	o.w = bufio.NewWriterSize(f, 64*1024)
	o.agg = newAggregator(o.maxSeries, func(n int) {
		o.logger.Warnf("more than %d tagged metric series (scenario, group, name, method, status, expected_response, check); "+
			"samples of further tag combinations are counted in one overflow series per metric. "+
			"Give requests to many URLs a `name` tag to group them, or raise %s (on Stampede's runners: METRICS_MAX_SERIES).", n, MaxSeriesEnv)
	})
	o.start = o.now()
	o.stop = make(chan struct{})
	o.stopped = make(chan struct{})
	go o.run()
	return nil
}

// AddMetricSamples aggregates the samples into the current period. k6's output manager calls
// it from one goroutine; the lock is shared only with the once-a-second flush.
func (o *Output) AddMetricSamples(containers []metrics.SampleContainer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.agg == nil || o.w == nil {
		return
	}
	for _, sc := range containers {
		for _, s := range sc.GetSamples() {
			o.agg.add(s)
		}
	}
}

// run flushes at every whole period of the wall clock, so that frames of k6 instances on
// different machines cover the same periods and merge period by period.
func (o *Output) run() {
	defer close(o.stopped)
	timer := time.NewTimer(time.Until(o.nextBoundary(o.now())))
	defer timer.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-timer.C:
			now := o.now()
			boundary := now.Truncate(o.period)
			o.flush(boundary, false)
			timer.Reset(time.Until(o.nextBoundary(now)))
		}
	}
}

func (o *Output) nextBoundary(t time.Time) time.Time {
	return t.Truncate(o.period).Add(o.period)
}

// flush aggregates what is buffered and writes one frame for [o.start, end).
func (o *Output) flush(end time.Time, final bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.w == nil {
		return
	}
	if !end.After(o.start) && !final {
		return
	}
	f := frame.Frame{
		V:       frame.Version,
		Seq:     o.seq,
		Start:   o.start.UnixMilli(),
		End:     end.UnixMilli(),
		Final:   final,
		Mapping: frame.DefaultMapping(),
		Series:  o.agg.flush(),
	}
	o.seq++
	o.start = end
	line, err := json.Marshal(f)
	if err == nil {
		_, err = o.w.Write(append(line, '\n'))
	}
	if err == nil {
		err = o.w.Flush()
	}
	if err != nil && o.werr == nil {
		o.werr = err
		o.logger.WithError(err).Error("writing metric frames failed; no further frames are written")
	}
	if o.werr != nil {
		o.w.Reset(io.Discard)
	}
}

// Stop writes the last (partial) period's frame, marked final, and closes the file.
func (o *Output) Stop() error {
	var err error
	o.once.Do(func() {
		if o.stop == nil {
			return
		}
		close(o.stop)
		<-o.stopped
		o.flush(o.now(), true)
		o.mu.Lock()
		defer o.mu.Unlock()
		o.w = nil
		cerr := o.file.Close()
		err = errors.Join(o.werr, cerr)
	})
	return err
}

var _ output.Output = (*Output)(nil)

// sortSeries orders series by their merge key, so frames are deterministic.
func sortSeries(s []frame.Series) {
	keys := make([]string, len(s))
	for i := range s {
		keys[i] = s[i].Key()
	}
	sort.Sort(seriesByKey{s, keys})
}

type seriesByKey struct {
	s    []frame.Series
	keys []string
}

func (b seriesByKey) Len() int           { return len(b.s) }
func (b seriesByKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b seriesByKey) Swap(i, j int) {
	b.s[i], b.s[j] = b.s[j], b.s[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}
