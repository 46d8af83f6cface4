package auth

// CacheLen reports how many verified tokens a holds (for tests).
func CacheLen(a *Authenticator) int {
	if a.cache == nil {
		return 0
	}
	return a.cache.len()
}
