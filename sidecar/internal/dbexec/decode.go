package dbexec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
)

// parseInt decodes an integer column (int4 or int8) in its wire format (format 1 is binary).
func parseInt(v []byte, format int16) (int64, error) {
	if format == 1 {
		switch len(v) {
		case 8:
			return int64(binary.BigEndian.Uint64(v)), nil
		case 4:
			return int64(int32(binary.BigEndian.Uint32(v))), nil
		}
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decoding bigint %q: %w", v, err)
	}
	return n, nil
}

// planRows extracts the top node's "Plan Rows" from EXPLAIN (FORMAT JSON) output without a JSON decode.
func planRows(plan []byte) int64 {
	const key = `"Plan Rows":`
	i := bytes.Index(plan, []byte(key))
	if i < 0 {
		return -1
	}
	rest := bytes.TrimLeft(plan[i+len(key):], " ")
	j := 0
	for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
		j++
	}
	f, err := strconv.ParseFloat(string(rest[:j]), 64)
	if err != nil {
		return -1
	}
	return int64(f)
}
