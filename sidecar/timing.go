package sidecar

import (
	"strconv"
	"time"
)

// Stages of a request as PostgREST's Server-Timing header names them.
const (
	stageJWT = iota
	stageParse
	stagePlan
	stageTransaction
	stageResponse
	stageCount
)

var stageNames = [stageCount]string{"jwt", "parse", "plan", "transaction", "response"}

// timing accumulates the time one request spends in each stage, for server-timing-enabled.
// The zero value is off and costs nothing.
type timing struct {
	on   bool
	last time.Time
	dur  [stageCount]time.Duration
}

// lap charges the time since the previous lap to stage.
func (t *timing) lap(stage int) {
	if !t.on {
		return
	}
	now := time.Now()
	t.dur[stage] += now.Sub(t.last)
	t.last = now
}

// header renders the stages as a Server-Timing value: "jwt;dur=0.1, parse;dur=0.0, …" (milliseconds).
func (t *timing) header() []byte {
	b := make([]byte, 0, 96)
	for i, d := range t.dur {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, stageNames[i]...)
		b = append(b, ";dur="...)
		b = strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', 1, 64)
	}
	return b
}
