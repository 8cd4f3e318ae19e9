package yamlconf

import "strings"

// nearest returns the candidate closest to name, or "" when none is close
// enough to be worth suggesting: a wrong suggestion misleads more than none.
// Case, '_' and '-' are ignored, so stateEvery and state-every both find
// state_every.
func nearest(name string, candidates []string) string {
	n := normalize(name)
	limit := 3
	switch {
	case len(n) <= 3:
		limit = 1
	case len(n) <= 6:
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		// Half the name may differ at most, so "x" suggests nothing.
		if d := distance(n, normalize(c)); d < bestD && 2*d <= len(n) {
			best, bestD = c, d
		}
	}
	return best
}

func normalize(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(s))
}

// distance is the optimal string alignment distance between a and b (in
// bytes): insertions, deletions, substitutions and swaps of two neighbours
// each count one, so "htpp" is one from "http".
func distance(a, b string) int {
	// Field names are short; anything long is not a typo of one.
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 1 << 30
	}
	// Three rows of the dynamic programme: two back, one back, this one.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
