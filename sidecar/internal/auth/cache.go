package auth

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CacheStats count what the verified-token cache did, as PostgREST's pgrst_jwt_cache_* metrics: lookups,
// hits and entries evicted to make room. One CacheStats may be shared by the authenticators that replace each
// other on reloads; its counters only grow. Safe for concurrent use.
type CacheStats struct {
	Requests  atomic.Uint64
	Hits      atomic.Uint64
	Evictions atomic.Uint64
}

// cache maps a raw token to its verified form, so the hot path skips signature checks and JSON decoding.
// Entries leave when their exp (plus the skew) has passed, when maxLife has passed, or at random when full.
// Errors are never cached.
type cache struct {
	mu      sync.RWMutex
	max     int
	maxLife time.Duration
	m       map[string]cacheEntry
	// stats, when set, counts lookups, hits and evictions.
	stats *CacheStats
}

type cacheEntry struct {
	t        *token
	deadline int64 // unix nanoseconds after which the entry is stale; 0 = none
}

// maxUnixSeconds keeps exp-derived deadlines within UnixNano's range.
const maxUnixSeconds = 9_000_000_000

func newCache(max int, maxLife time.Duration, stats *CacheStats) *cache {
	return &cache{max: max, maxLife: maxLife, m: make(map[string]cacheEntry, min(max, 1024)), stats: stats}
}

func (c *cache) get(tok string, now time.Time) *token {
	if c.stats != nil {
		c.stats.Requests.Add(1)
	}
	c.mu.RLock()
	e, ok := c.m[tok]
	c.mu.RUnlock()
	if !ok {
		return nil
	}
	if e.deadline != 0 && now.UnixNano() > e.deadline {
		c.mu.Lock()
		if cur, ok := c.m[tok]; ok && cur.deadline == e.deadline {
			delete(c.m, tok)
		}
		c.mu.Unlock()
		return nil
	}
	if c.stats != nil {
		c.stats.Hits.Add(1)
	}
	return e.t
}

func (c *cache) put(tok string, t *token, now time.Time) {
	var deadline int64
	if c.maxLife > 0 {
		deadline = now.Add(c.maxLife).UnixNano()
	}
	if t.exp.present && !t.exp.bad && t.exp.v < maxUnixSeconds {
		// past exp+skew the token is rejected anyway; keep it no longer than that
		if d := time.Unix(t.exp.v+30, 0).UnixNano(); deadline == 0 || d < deadline {
			deadline = d
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[tok]; !ok && len(c.m) >= c.max {
		n := 0
		for k := range c.m { // Go's map iteration order is random: evict a few arbitrary entries
			delete(c.m, k)
			if n++; n >= 1+c.max/64 {
				break
			}
		}
		if c.stats != nil {
			c.stats.Evictions.Add(uint64(n))
		}
	}
	// The key is copied: callers may pass a string aliasing a request buffer that is reused later.
	c.m[strings.Clone(tok)] = cacheEntry{t: t, deadline: deadline}
}
