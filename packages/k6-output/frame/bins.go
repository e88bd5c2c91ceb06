package frame

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// The bin mapping is DDSketch's logarithmic mapping (github.com/DataDog/sketches-go): index
// floor(ln|v| / ln Gamma), representative value Gamma^i * 2*Gamma/(1+Gamma). The library does
// the hot-path work (indexing and counting samples); Bins is only the frame's sparse, mergeable
// form of those counts.
var logMapping = mustMapping()

func mustMapping() *mapping.LogarithmicMapping {
	m, err := mapping.NewLogarithmicMappingWithGamma(Gamma, 0)
	if err != nil {
		panic(err)
	}
	return m
}

var ddsketchStore = store.DenseStoreConstructor

// NewSketch returns an empty DDSketch with the frame mapping (unbounded dense stores, so no bins
// are ever collapsed and the accuracy holds for any range of values).
func NewSketch() *ddsketch.DDSketch {
	return ddsketch.NewDDSketchFromStoreProvider(logMapping, ddsketchStore)
}

// BinValue is the representative value of positive bin i.
func BinValue(i int) float64 { return logMapping.Value(i) }

// Bins holds a trend histogram: counts per bin index for positive and negative values, and
// the count of zeros.
type Bins struct {
	Zero uint64
	Pos  map[int]uint64
	Neg  map[int]uint64
}

// BinsFromSketch copies a sketch's counts.
func BinsFromSketch(s *ddsketch.DDSketch) *Bins {
	b := &Bins{Zero: uint64(s.GetZeroCount())}
	collect := func(m *map[int]uint64) func(int, float64) bool {
		return func(i int, c float64) bool {
			if c > 0 {
				if *m == nil {
					*m = map[int]uint64{}
				}
				(*m)[i] += uint64(math.Round(c))
			}
			return false
		}
	}
	s.GetPositiveValueStore().ForEach(collect(&b.Pos))
	s.GetNegativeValueStore().ForEach(collect(&b.Neg))
	return b
}

// Merge adds other's counts.
func (b *Bins) Merge(other *Bins) {
	b.Zero += other.Zero
	add := func(dst *map[int]uint64, src map[int]uint64) {
		if len(src) > 0 && *dst == nil {
			*dst = make(map[int]uint64, len(src))
		}
		for i, c := range src {
			(*dst)[i] += c
		}
	}
	add(&b.Pos, other.Pos)
	add(&b.Neg, other.Neg)
}

// Total is the number of values counted.
func (b *Bins) Total() uint64 {
	n := b.Zero
	for _, c := range b.Pos {
		n += c
	}
	for _, c := range b.Neg {
		n += c
	}
	return n
}

// ValueAtRank is the representative value of the rank-th smallest value (0-based).
func (b *Bins) ValueAtRank(rank uint64) float64 {
	var seen uint64
	neg := sortedKeys(b.Neg)
	for j := len(neg) - 1; j >= 0; j-- { // largest magnitude first
		seen += b.Neg[neg[j]]
		if seen > rank {
			return -BinValue(neg[j])
		}
	}
	seen += b.Zero
	if seen > rank {
		return 0
	}
	pos := sortedKeys(b.Pos)
	for _, i := range pos {
		seen += b.Pos[i]
		if seen > rank {
			return BinValue(i)
		}
	}
	if len(pos) > 0 {
		return BinValue(pos[len(pos)-1])
	}
	return 0
}

// binsJSON is the wire form: runs of neighbouring bins, each [firstIndex, count, count, ...].
// A gap of up to maxInlineZeros empty bins is written as zeros inside a run (cheaper than a
// new run).
type binsJSON struct {
	Zero uint64    `json:"zero,omitempty"`
	Pos  [][]int64 `json:"pos,omitempty"`
	Neg  [][]int64 `json:"neg,omitempty"`
}

const maxInlineZeros = 2

func encodeRuns(m map[int]uint64) [][]int64 {
	keys := sortedKeys(m)
	var runs [][]int64
	var cur []int64
	next := 0
	for _, i := range keys {
		if cur != nil && i-next <= maxInlineZeros {
			for ; next < i; next++ {
				cur = append(cur, 0)
			}
		} else {
			if cur != nil {
				runs = append(runs, cur)
			}
			cur = []int64{int64(i)}
		}
		cur = append(cur, int64(m[i]))
		next = i + 1
	}
	if cur != nil {
		runs = append(runs, cur)
	}
	return runs
}

func decodeRuns(runs [][]int64) (map[int]uint64, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	m := map[int]uint64{}
	for _, r := range runs {
		if len(r) < 2 {
			return nil, fmt.Errorf("bin run %v has no counts", r)
		}
		for k, c := range r[1:] {
			if c < 0 {
				return nil, fmt.Errorf("negative bin count in %v", r)
			}
			if c > 0 {
				m[int(r[0])+k] += uint64(c)
			}
		}
	}
	return m, nil
}

// MarshalJSON writes the run form.
func (b *Bins) MarshalJSON() ([]byte, error) {
	return json.Marshal(binsJSON{Zero: b.Zero, Pos: encodeRuns(b.Pos), Neg: encodeRuns(b.Neg)})
}

// UnmarshalJSON reads the run form.
func (b *Bins) UnmarshalJSON(data []byte) error {
	var w binsJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	pos, err := decodeRuns(w.Pos)
	if err != nil {
		return err
	}
	neg, err := decodeRuns(w.Neg)
	if err != nil {
		return err
	}
	*b = Bins{Zero: w.Zero, Pos: pos, Neg: neg}
	return nil
}

func sortedKeys(m map[int]uint64) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
