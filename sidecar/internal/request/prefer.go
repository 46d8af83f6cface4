package request

import "strings"

// parsePrefer reads the Prefer header (several headers joined with ','), as PostgREST's
// Preferences.fromHeaders: the first value of each preference wins, and anything not recognised is
// listed in Unrecognized (an error only with handling=strict, checked by Parse).
func parsePrefer(h string, out *Preferences) {
	tzSeen, maxSeen := false, false
	for h != "" {
		var item string
		if i := strings.IndexByte(h, ','); i >= 0 {
			item, h = h[:i], h[i+1:]
		} else {
			item, h = h, ""
		}
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		switch item {
		case "return=representation", "return=minimal", "return=headers-only":
			if out.Return == "" {
				out.Return = item[len("return="):]
			}
		case "count=exact", "count=planned", "count=estimated":
			if out.Count == CountNone {
				switch item {
				case "count=exact":
					out.Count = CountExact
				case "count=planned":
					out.Count = CountPlanned
				default:
					out.Count = CountEstimated
				}
			}
		case "resolution=merge-duplicates", "resolution=ignore-duplicates":
			if out.Resolution == "" {
				out.Resolution = item[len("resolution="):]
			}
		case "missing=default", "missing=null":
			if out.Missing == "" {
				out.Missing = item[len("missing="):]
			}
		case "handling=strict", "handling=lenient":
			if out.Handling == "" {
				out.Handling = item[len("handling="):]
			}
		case "tx=commit", "tx=rollback":
			if out.Tx == "" {
				out.Tx = item[len("tx="):]
			}
		case "params=single-object":
			if out.Params == "" {
				out.Params = "single-object"
			}
		default:
			switch {
			case strings.HasPrefix(item, "timezone="):
				if !tzSeen {
					tzSeen = true
					// Any value goes to PostgreSQL, which rejects unknown zones (22023) whatever the handling.
					out.Timezone = item[len("timezone="):]
				}
			case strings.HasPrefix(item, "max-affected="):
				if !maxSeen {
					maxSeen = true
					if v, ok := readInteger(item[len("max-affected="):]); ok && v >= 0 {
						out.MaxAffected = v
					}
				}
			default:
				out.Unrecognized = append(out.Unrecognized, item)
			}
		}
	}
}
