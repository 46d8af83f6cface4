package schemacache

import "sync/atomic"

// Holder publishes the current Cache to concurrent readers; its zero value holds no cache.
// A reload builds a new Cache and Stores it; readers keep the snapshot they Loaded.
type Holder struct {
	p atomic.Pointer[Cache]
}

// Load returns the current cache, or nil before the first Store.
func (h *Holder) Load() *Cache { return h.p.Load() }

// Store publishes c as the current cache.
func (h *Holder) Store(c *Cache) { h.p.Store(c) }
