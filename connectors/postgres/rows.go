package postgres

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// stream runs the query and feeds its rows, as they arrive, to the row
// loop. A row's line is its 1-based place in the result plus one, as if the
// result were a CSV with a header.
func (s *Source) stream(ctx context.Context, mem memory.Allocator, sink pipeline.Sink, conn *pgx.Conn, where, dsn string) (int64, error) {
	rows, err := conn.Query(ctx, s.cfg.Query)
	if err != nil {
		return 0, fmt.Errorf("%s: %s", where, scrub(err, dsn, ""))
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	rl := connectors.NewRowLoader(s.rules, s.pseud, s.ts, mem, sink, where)
	defer rl.Release()
	if err := rl.Header(names); err != nil {
		return 0, err
	}
	cells := make([]string, len(names))
	line := int64(1)
	for rows.Next() {
		line++
		if line%connectors.BatchRows == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		vals, err := rows.Values()
		if err != nil {
			return 0, fmt.Errorf("%s: row %d: %s", where, line, scrub(err, dsn, ""))
		}
		for i, v := range vals {
			if cells[i], err = cell(v, fds[i].DataTypeOID); err != nil {
				return 0, fmt.Errorf("%s: row %d: column %q: %w", where, line, names[i], err)
			}
		}
		if err := rl.Row(cells, line); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %s", where, scrub(err, dsn, ""))
	}
	return rl.Finish(ctx)
}

// cell writes a value as the text a CSV extract would hold: dates
// yyyy-mm-dd, timestamptz RFC 3339 in UTC, timestamp (without zone) as
// naive text that the loop reads as Europe/London, integers and numerics in
// decimal, booleans true/false, NULL as "".
func cell(v any, oid uint32) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case int16:
		return strconv.FormatInt(int64(v), 10), nil
	case int32:
		return strconv.FormatInt(int64(v), 10), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case time.Time:
		switch oid {
		case pgtype.DateOID:
			return v.Format(time.DateOnly), nil
		case pgtype.TimestampOID: // wall-clock fields, given in UTC by pgx
			return v.Format("2006-01-02T15:04:05"), nil
		}
		return v.UTC().Format(time.RFC3339), nil
	case pgtype.Numeric:
		return numeric(v)
	}
	return "", fmt.Errorf("type %T is not supported; cast it to text in the query", v)
}

// numeric writes a NUMERIC in plain decimal.
func numeric(n pgtype.Numeric) (string, error) {
	if !n.Valid {
		return "", nil
	}
	if n.NaN || n.InfinityModifier != pgtype.Finite {
		return "NaN", nil // quarantined as bad_number by the loop
	}
	r := new(big.Rat).SetInt(n.Int)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil)
	if n.Exp >= 0 {
		r.Mul(r, new(big.Rat).SetInt(scale))
	} else {
		r.Quo(r, new(big.Rat).SetInt(scale))
	}
	prec := 0
	if n.Exp < 0 {
		prec = int(-n.Exp)
	}
	return r.FloatString(prec), nil
}

func abs(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}
