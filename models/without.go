package models

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"earlyhelp/pipeline"
)

// Without trains Trainer on every column but Features: the backtest's
// comparison of a model with and without area deprivation, so a council can
// see what the family's own signals add. Its models score any table that
// has their own features, the left-out ones ignored.
type Without struct {
	Trainer  pipeline.Trainer
	Features []string
}

var _ pipeline.Trainer = Without{}

// Fit fits Trainer on feats less the left-out columns.
func (w Without) Fit(ctx context.Context, feats arrow.Record, labels []bool) (pipeline.Model, error) {
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range feats.Schema().Fields() {
		if slices.Contains(w.Features, f.Name) {
			continue
		}
		fields = append(fields, f)
		cols = append(cols, feats.Column(i))
	}
	if len(cols) == int(feats.NumCols()) {
		return nil, fmt.Errorf("without %v: no such feature column", w.Features)
	}
	sub := array.NewRecord(arrow.NewSchema(fields, nil), cols, feats.NumRows())
	defer sub.Release()
	return w.Trainer.Fit(ctx, sub, labels)
}
