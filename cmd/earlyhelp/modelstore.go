package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"earlyhelp/models"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
)

// fileModels keeps the current model in data_dir/models/current.json, so
// weekly runs score with the model the last retrain chose.
type fileModels struct {
	path string
}

func newFileModels(dataDir string) *fileModels {
	return &fileModels{path: filepath.Join(dataDir, "models", "current.json")}
}

// savedFile is current.json.
type savedFile struct {
	TrainedFor string                      `json:"trained_for"`
	RunID      string                      `json:"run_id"`
	BaseRate   float64                     `json:"base_rate"`
	Manifest   pipeline.ModelManifest      `json:"manifest"`
	Backtest   *pipeline.BacktestSummary   `json:"backtest,omitempty"`
	PSI        map[string]pipeline.PSIBins `json:"psi,omitempty"`
	Model      json.RawMessage             `json:"model"`
}

func (f *fileModels) Current(ctx context.Context) (*pipeline.SavedModel, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sf savedFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	m, err := loadModel(sf.Model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	day, err := time.Parse(time.DateOnly, sf.TrainedFor)
	if err != nil {
		return nil, fmt.Errorf("%s: trained_for: %w", f.path, err)
	}
	return &pipeline.SavedModel{
		Model: m, Manifest: sf.Manifest, BaseRate: sf.BaseRate, TrainedFor: day, RunID: sf.RunID,
		Backtest: sf.Backtest, PSI: sf.PSI,
	}, nil
}

func (f *fileModels) Save(ctx context.Context, sm *pipeline.SavedModel) error {
	raw, err := saveModel(sm.Model)
	if err != nil {
		return err
	}
	b, err := json.Marshal(savedFile{
		TrainedFor: sm.TrainedFor.Format(time.DateOnly), RunID: sm.RunID, BaseRate: sm.BaseRate,
		Manifest: sm.Manifest, Backtest: sm.Backtest, PSI: sm.PSI, Model: raw,
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o750); err != nil {
		return err
	}
	return atomicfile.WriteFile(f.path, b, 0o640)
}

// saveModel and loadModel are the model artifact's two directions.
func saveModel(m pipeline.Model) ([]byte, error) {
	j, ok := m.(json.Marshaler)
	if !ok {
		return nil, fmt.Errorf("a %T model cannot be saved", m)
	}
	return j.MarshalJSON()
}

func loadModel(b []byte) (pipeline.Model, error) { return models.Load(b) }
