package auth

// CacheLen reports how many verified tokens a holds (for tests).
func CacheLen(a *Authenticator) int {
	if a.cache == nil {
		return 0
	}
	a.cache.mu.RLock()
	defer a.cache.mu.RUnlock()
	return len(a.cache.m)
}
