package schemacache

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// RelationshipsFrom returns the relationships whose source is from (nil when there are none).
func (c *Cache) RelationshipsFrom(from QName) []*Relationship { return c.Relationships[from] }

// RelationshipsBetween returns the relationships from source to target, in a stable order.
func (c *Cache) RelationshipsBetween(source, target QName) []*Relationship {
	var out []*Relationship
	for _, r := range c.Relationships[source] {
		if r.Target == target {
			out = append(out, r)
		}
	}
	return out
}

// Routine returns the overloads of the function schema.name, fewest parameters first.
func (c *Cache) Routine(schema, name string) ([]*Routine, bool) {
	rs, ok := c.Routines[QName{schema, name}]
	return rs, ok
}

// ClosestRelation suggests the relation of schema whose name is most like name (for "Perhaps you meant"
// hints, PGRST205), among those the cache's Visibility shows. It reports false when nothing is close enough
// (PostgREST's 0.75 similarity, its answer to table enumeration through hints in PostgREST #4675) and, as
// PostgREST, for a schema of maxHintRelations relations or more, whose names are rarely typed by hand and too
// many to compare on every 404.
func (c *Cache) ClosestRelation(schema, name string) (QName, bool) {
	var cands []string
	n := 0
	for q := range c.Relations {
		if q.Schema != schema {
			continue
		}
		if n++; n >= maxHintRelations {
			return QName{}, false
		}
		if c.RelationVisible(q) {
			cands = append(cands, q.Name)
		}
	}
	best, ok := closest(name, cands, 0.75)
	return QName{schema, best}, ok
}

// ClosestRoutine suggests the function of schema whose name is most like name (PGRST202 hints), other than
// name itself, among those the cache's Visibility shows; as close as ClosestRelation demands.
func (c *Cache) ClosestRoutine(schema, name string) (QName, bool) {
	var cands []string
	for q, fns := range c.Routines {
		if q.Schema == schema && q.Name != name && slices.ContainsFunc(fns, (*Routine).Callable) && c.RoutineVisible(q) {
			cands = append(cands, q.Name)
		}
	}
	best, ok := closest(name, cands, 0.75)
	return QName{schema, best}, ok
}

// ClosestTarget suggests the relation related to from whose name is most like name (PGRST200 hints), among
// those the cache's Visibility shows: similarity 0.33 as PostgREST. It reports false when
// name is itself the name of a related relation (the relationship exists; the hint was what did not match).
func (c *Cache) ClosestTarget(from QName, name string) (string, bool) {
	seen := map[string]bool{}
	var cands []string
	for _, r := range c.Relationships[from] {
		if r.Target.Schema != from.Schema {
			continue // only relations of the requested schema are embedded
		}
		if r.Target.Name == name {
			return "", false
		}
		if !seen[r.Target.Name] {
			seen[r.Target.Name] = true
			if c.RelationVisible(r.Target) {
				cands = append(cands, r.Target.Name)
			}
		}
	}
	return closest(name, cands, 0.33)
}

// ClosestParams suggests the overload of fns whose parameter list is most like the given argument names, as
// PostgREST compares them: each list sorted and written "(a, b, c)", fuzzy-matched with similarity 0.33.
// Callers check that the function is visible first: the list names its parameters.
func ClosestParams(fns []*Routine, args []string) (string, bool) {
	list := func(names []string) string {
		sorted := append([]string(nil), names...)
		slices.Sort(sorted)
		return "(" + strings.Join(sorted, ", ") + ")"
	}
	cands := make([]string, 0, len(fns))
	for _, fn := range fns {
		names := make([]string, 0, len(fn.Params))
		for _, p := range fn.Params {
			names = append(names, p.Name)
		}
		cands = append(cands, list(names))
	}
	return closest(list(args), cands, 0.33)
}

// ClosestColumn suggests the column of r whose name is most like name (PGRST204 hints).
func (r *Relation) ClosestColumn(name string) (string, bool) {
	cands := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		cands[i] = c.Name
	}
	return closest(name, cands, 0.33)
}

// maxHintRelations is PostgREST's maxDbTablesForFuzzySearch: a schema with this many relations or more gets no
// "Perhaps you meant the table" hint.
const maxHintRelations = 500

// closest picks a suggestion the way PostgREST's fuzzy set does: among candidates sharing at least one
// bigram with name (padded, case-insensitive), the one with the highest similarity 1 - edit distance /
// longer length, if it reaches minSimilarity (PostgREST: 0.75 for table and function names, 0.33 otherwise);
// ties go to the alphabetically first.
func closest(name string, cands []string, minSimilarity float64) (string, bool) {
	lname := strings.ToLower(name)
	grams := bigrams(lname)
	best, bestScore := "", -1.0
	for _, cand := range cands {
		lc := strings.ToLower(cand)
		if lc != lname && !sharesBigram(grams, lc) {
			continue
		}
		n := max(utf8.RuneCountInString(lname), utf8.RuneCountInString(lc))
		d := levenshtein(lname, lc)
		score := 1.0
		if n > 0 {
			score = 1 - float64(d)/float64(n)
		}
		if score > bestScore || score == bestScore && cand < best {
			best, bestScore = cand, score
		}
	}
	if bestScore < minSimilarity {
		return "", false
	}
	return best, true
}

func bigrams(s string) map[[2]rune]bool {
	r := []rune("-" + s + "-")
	out := make(map[[2]rune]bool, len(r))
	for i := 0; i+1 < len(r); i++ {
		out[[2]rune{r[i], r[i+1]}] = true
	}
	return out
}

func sharesBigram(grams map[[2]rune]bool, s string) bool {
	r := []rune("-" + s + "-")
	for i := 0; i+1 < len(r); i++ {
		if grams[[2]rune{r[i], r[i+1]}] {
			return true
		}
	}
	return false
}

// levenshtein is the edit distance between a and b, counted in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
