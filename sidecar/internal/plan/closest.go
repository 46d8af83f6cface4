package plan

import "github.com/pgway/pgway/internal/schemacache"

// closestRelation suggests the relation in schema whose name is nearest to name (PostgREST's fuzzy hint).
func closestRelation(c *schemacache.Cache, schema, name string) (string, bool) {
	best, bestD := "", 1<<30
	for q := range c.Relations {
		if q.Schema != schema {
			continue
		}
		if d := distance(q.Name, name); d < bestD || d == bestD && q.Name < best {
			best, bestD = q.Name, d
		}
	}
	// Like PostgREST, only suggest names that are reasonably close.
	if best == "" || bestD > max(3, len(name)/2) {
		return "", false
	}
	return best, true
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
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
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
