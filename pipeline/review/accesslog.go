package review

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// accessLog is the append-only record of who saw which family, when and
// why (CONTRACTS §9). An entry is on disk before the page is served: if it
// cannot be written, the page is not shown.
type accessLog struct {
	mu sync.Mutex
	f  *os.File
}

// Access is one line of the access log.
type Access struct {
	At        time.Time `json:"at"`
	User      string    `json:"user"`
	Role      string    `json:"role"`
	Household string    `json:"household_ref,omitempty"` // "" for the list, which names several
	Page      string    `json:"page"`
	Why       string    `json:"why"`
}

func openAccessLog(path string) (*accessLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("review: access log: %w", err)
	}
	return &accessLog{f: f}, nil
}

func (a *accessLog) write(e Access) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(b); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	return nil
}

func (a *accessLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}
