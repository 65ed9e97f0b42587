package attendance

import (
	"context"

	"earlyhelp/features"
)

var _ features.Spanner = (*Builder)(nil)

// Span is the first and last day of stored attendance: the backtest will
// not train on a date with too little of it before, nor test one whose
// horizon runs past it.
func (b *Builder) Span(ctx context.Context) (from, to features.Day, ok bool, err error) {
	idx, err := b.index(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	return idx.start, idx.start + features.Day(idx.days) - 1, idx.days > 0, nil
}
