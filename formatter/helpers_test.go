package formatter

import "github.com/rivo/uniseg"

// countGraphemesSlow is the reference count: the full UAX #29 segmenter.
func countGraphemesSlow(s string) int { return uniseg.GraphemeClusterCount(s) }
