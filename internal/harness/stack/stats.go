package stack

import (
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// LoadAverage is the machine's one-minute load average (/proc/loadavg), 0 if unreadable.
func LoadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// Percentile is the p-th percentile (0..100) of xs by the nearest-rank method; NaN when empty.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Round keeps d decimals.
func Round(x float64, d int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return -1
	}
	m := math.Pow(10, float64(d))
	return math.Round(x*m) / m
}
