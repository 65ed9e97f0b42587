package decisions

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Arms of the capacity-margin lottery (list.evaluation).
const (
	ArmOffered    = "offered"
	ArmNotOffered = "not_offered"
)

// Allocation is one household's draw in one week's capacity-margin
// lottery: whether it was offered (listed) or not. Kept beside the
// decisions so the evaluation can join a household's arm to what the
// navigators then did.
type Allocation struct {
	ID        int64
	RunID     string
	AsOf      string // yyyy-mm-dd, the run's as-of date
	Household string // pseudonym
	Rank      int
	Arm       string // ArmOffered or ArmNotOffered
	Margin    int
	Seed      int64
	At        time.Time // when it was recorded
}

func validAllocation(a Allocation) error {
	switch {
	case a.RunID == "":
		return errors.New("decisions: allocation: run id is empty")
	case a.Household == "":
		return errors.New("decisions: allocation: household is empty")
	case a.Rank < 1:
		return fmt.Errorf("decisions: allocation: rank %d", a.Rank)
	case a.Arm != ArmOffered && a.Arm != ArmNotOffered:
		return fmt.Errorf("decisions: allocation: unknown arm %q", a.Arm)
	}
	if _, err := time.Parse(time.DateOnly, a.AsOf); err != nil {
		return fmt.Errorf("decisions: allocation: as-of date %q: want yyyy-mm-dd", a.AsOf)
	}
	return nil
}

// RecordAllocations appends one week's draw in one transaction: all of it
// or none. A run's draw recorded twice (a retried write) is refused by the
// (run_id, household) key, so no household holds two arms in one week.
func (s *Store) RecordAllocations(ctx context.Context, as []Allocation, at time.Time) error {
	for _, a := range as {
		if err := validAllocation(a); err != nil {
			return err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("decisions: record allocations: %w", err)
	}
	defer tx.Rollback()
	stamp := at.UTC().Format(timeLayout)
	for _, a := range as {
		if _, err := tx.ExecContext(ctx, `INSERT INTO evaluation_allocations
			(run_id, as_of, household, rank, arm, margin, seed, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.RunID, a.AsOf, a.Household, a.Rank, a.Arm, a.Margin, a.Seed, stamp); err != nil {
			return fmt.Errorf("decisions: record allocations of run %s: %w", a.RunID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("decisions: record allocations: %w", err)
	}
	return nil
}

// Allocations returns every allocation, oldest week first; household ""
// means every household.
func (s *Store) Allocations(ctx context.Context, household string) ([]Allocation, error) {
	q := `SELECT id, run_id, as_of, household, rank, arm, margin, seed, at FROM evaluation_allocations`
	var args []any
	if household != "" {
		q += ` WHERE household = ?`
		args = append(args, household)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY as_of, run_id, rank, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("decisions: allocations: %w", err)
	}
	defer rows.Close()
	var out []Allocation
	for rows.Next() {
		var a Allocation
		var at string
		if err := rows.Scan(&a.ID, &a.RunID, &a.AsOf, &a.Household, &a.Rank, &a.Arm, &a.Margin, &a.Seed, &at); err != nil {
			return nil, fmt.Errorf("decisions: allocations: %w", err)
		}
		if a.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("decisions: allocations: allocation %d: %w", a.ID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decisions: allocations: %w", err)
	}
	return out, nil
}

// FirstAllocations keeps each household's first allocation only: a
// household drawn again in a later week keeps the arm of its first draw
// for the evaluation (intention to treat), since by then its first arm may
// already have changed its outcome. as must be oldest first, as
// Allocations returns them.
func FirstAllocations(as []Allocation) []Allocation {
	seen := map[string]bool{}
	var out []Allocation
	for _, a := range as {
		if seen[a.Household] {
			continue
		}
		seen[a.Household] = true
		out = append(out, a)
	}
	return out
}
