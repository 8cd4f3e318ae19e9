package tracker

import (
	"math"
	"sort"
	"time"
)

// maxMatch bounds how many vehicles one joint assignment weighs (the nearest
// ones, by shared blocks, to the vehicle whose fix is being placed): it keeps
// the cost of a fix bounded however many buses interline. One route rarely
// has more buses on it at once.
const maxMatch = 64

// minClaim is how many fixes a vehicle must have been seen for before it
// gives way to others' claims on blocks: one fix is too thin a reason to put
// a bus on a trip that fits it worse.
const minClaim = 2

// holdFor is how long a vehicle not heard from keeps its claim on a block.
const holdFor = 10 * time.Minute

// claim is one vehicle's evidence for working block k: the misfit, summed
// over its recent fixes, it saves over a block that never fitted it.
type claim struct {
	block blockKey
	gain  float64
}

// claimsOf lists the blocks v has evidence for, best first.
func claimsOf(v *Vehicle) []claim {
	var cs []claim
	for k, c := range v.blockCost {
		if g := v.blockFixes*maxMisfit - c; g > 0 {
			cs = append(cs, claim{k, g})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return before(cs[i], cs[j]) })
	return cs
}

// before orders claims: more evidence first, then by block, so that
// assignments do not depend on map order.
func before(a, b claim) bool {
	if a.gain != b.gain {
		return a.gain > b.gain
	}
	if a.block.day != b.block.day {
		return a.block.day < b.block.day
	}
	if a.block.service != b.block.service {
		return a.block.service < b.block.service
	}
	return a.block.block < b.block.block
}

// claim replaces v's claims, and its entries in t.claimants, with cs.
func (t *Tracker) claim(v *Vehicle, cs []claim) {
	for _, c := range v.claims {
		if set := t.claimants[c.block]; set != nil {
			delete(set, v)
			if len(set) == 0 {
				delete(t.claimants, c.block)
			}
		}
	}
	v.claims = cs
	for _, c := range cs {
		set := t.claimants[c.block]
		if set == nil {
			set = map[*Vehicle]bool{}
			t.claimants[c.block] = set
		}
		set[v] = true
	}
}

// assignEvery is how often a vehicle's joint assignment is worked out
// again. Block evidence builds up over minutes (blockHalfLife), so a few
// seconds old is as good as new, and a fleet reporting every second would
// otherwise solve one assignment problem per fix.
const assignEvery = 10 * time.Second

type assignment struct {
	at      time.Time
	mine    blockKey
	ok      bool
	others  map[blockKey]bool
	current blockKey // v's block when it was made
}

// assignThrottled is assign, reused for assignEvery while v stays on the
// same block.
func (t *Tracker) assignThrottled(v *Vehicle, now time.Time) (blockKey, bool, map[blockKey]bool) {
	var cur blockKey
	if v.Trip != nil && v.TripSource == SourceInferred {
		cur = keyOf(candidate{trip: v.Trip, dayStart: v.DayStart})
	}
	a := &v.assigned
	if !a.at.IsZero() && a.current == cur && now.Sub(a.at) >= 0 && now.Sub(a.at) < assignEvery {
		return a.mine, a.ok, a.others
	}
	mine, ok, others := t.assign(v, now)
	*a = assignment{at: now, mine: mine, ok: ok, others: others, current: cur}
	return mine, ok, others
}

// assign gives each vehicle working no reported, configured or block trip
// one block, one vehicle a block, so that together they keep the most
// evidence (see learn): two buses near each other, each fitting both their
// trips, are told apart by all the buses around them, not by whichever
// reports first. Only the vehicles sharing blocks with v, directly or
// through others, are weighed. It returns v's block (ok false when v gets
// none) and the blocks the others get.
//
// v's current block counts switchCost more, so v changes block only when
// the evidence for the change has built up. The others' current blocks get
// no such bonus: their own fixes weigh their reluctance to change, and
// counting it here too would make two bunched buses that were put on each
// other's trips keep them twice as long.
func (t *Tracker) assign(v *Vehicle, now time.Time) (mine blockKey, ok bool, others map[blockKey]bool) {
	if v.blockFixes < minClaim {
		return blockKey{}, false, nil
	}
	// v's own evidence, its current block counting switchCost more.
	var cur blockKey
	onIt := v.Trip != nil && v.TripSource == SourceInferred
	if onIt {
		cur = keyOf(candidate{trip: v.Trip, dayStart: v.DayStart})
	}
	own := make([]claim, 0, len(v.claims)+1)
	bonus := false
	for _, c := range v.claims {
		if onIt && c.block == cur {
			c.gain += switchCost
			bonus = true
		}
		own = append(own, c)
	}
	if onIt && !bonus {
		if g := v.blockFixes*maxMisfit - v.blockCost[cur] + switchCost; g > 0 {
			own = append(own, claim{cur, g})
		}
	}
	if len(own) == 0 {
		return blockKey{}, false, nil
	}
	evidence := func(u *Vehicle) []claim {
		if u == v {
			return own
		}
		return u.claims
	}
	// Who competes: inferred vehicles heard from lately, linked to v by
	// shared blocks, directly or through others, nearest first.
	competes := func(u *Vehicle) bool {
		return now.Sub(u.Pos.Time) <= holdFor && (u.Trip == nil || u.TripSource == SourceInferred)
	}
	rows := []*Vehicle{v}
	in := map[*Vehicle]bool{v: true}
	cols := map[blockKey]int{}
	var blocks []blockKey
	var found []*Vehicle
	for i := 0; i < len(rows) && len(rows) < maxMatch; i++ {
		for _, c := range evidence(rows[i]) {
			if _, seen := cols[c.block]; seen {
				continue
			}
			cols[c.block] = len(blocks)
			blocks = append(blocks, c.block)
			found = found[:0]
			for u := range t.claimants[c.block] {
				if !in[u] && competes(u) {
					found = append(found, u)
				}
			}
			sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
			for _, u := range found {
				if len(rows) < maxMatch {
					in[u] = true
					rows = append(rows, u)
				}
			}
		}
	}
	for _, u := range rows[1:] {
		for _, c := range evidence(u) {
			if _, seen := cols[c.block]; !seen {
				cols[c.block] = len(blocks)
				blocks = append(blocks, c.block)
			}
		}
	}
	// Columns past the blocks are "no block", one per vehicle.
	n, m := len(rows), len(blocks)+len(rows)
	cost := make([][]float64, n)
	for i, u := range rows {
		cost[i] = make([]float64, m)
		for _, c := range evidence(u) {
			cost[i][cols[c.block]] = -c.gain
		}
	}
	match := hungarian(cost)
	others = map[blockKey]bool{}
	for i, j := range match {
		if j < 0 || j >= len(blocks) || cost[i][j] >= 0 {
			continue
		}
		if i == 0 {
			mine, ok = blocks[j], true
		} else {
			others[blocks[j]] = true
		}
	}
	return mine, ok, others
}

// hungarian solves the assignment problem for an n×m cost matrix, n <= m:
// the column of each row, all different, of least total cost. It is the
// O(n²m) shortest augmenting path method with potentials.
func hungarian(cost [][]float64) []int {
	n := len(cost)
	if n == 0 {
		return nil
	}
	m := len(cost[0])
	u := make([]float64, n+1)
	w := make([]float64, m+1)
	p := make([]int, m+1) // row (1-based) matched to each column; 0 = none
	way := make([]int, m+1)
	minv := make([]float64, m+1)
	used := make([]bool, m+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= m; j++ {
				if used[j] {
					continue
				}
				if cur := cost[i0-1][j-1] - u[i0] - w[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			if j1 == 0 {
				break // cannot happen with n <= m and finite costs
			}
			for j := 0; j <= m; j++ {
				if used[j] {
					u[p[j]] += delta
					w[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	match := make([]int, n)
	for i := range match {
		match[i] = -1
	}
	for j := 1; j <= m; j++ {
		if p[j] > 0 {
			match[p[j]-1] = j - 1
		}
	}
	return match
}
