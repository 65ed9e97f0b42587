package store

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"earlyhelp/pipeline"
)

// lockHolderEnv makes the test binary, run as a child process, take the
// lock on the data directory it names and hold it until killed.
const lockHolderEnv = "EARLYHELP_TEST_LOCK_HOLDER"

// TestLockHolderProcess is the child TestLock starts; it does nothing in an
// ordinary test run.
func TestLockHolderProcess(t *testing.T) {
	dir := os.Getenv(lockHolderEnv)
	if dir == "" {
		t.Skip("run as TestLock's child process")
	}
	s, err := Open(dir, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	select {} // until killed, as a crashed run never unlocks
}

// holdInChild starts the test binary holding dir's lock and returns once it
// holds it; kill ends it as a crash would.
func holdInChild(t *testing.T, dir string) (kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(kill)
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("child process said %q; want locked", line)
	}
	return kill
}

// TestLock: the lock is refused while another open file holds it (another
// store in this process, another process) and taken when nobody does,
// whatever PID a crashed holder left in the file. In a container every run
// is pid 1, so a file saying "1" proves nothing.
func TestLock(t *testing.T) {
	tests := []struct {
		name string
		// before prepares the data directory; the returned func, if any,
		// is called after the first Lock and must make a second succeed.
		before   func(t *testing.T, dir string) (release func())
		wantBusy bool
	}{
		{"free", func(*testing.T, string) func() { return nil }, false},
		{"left by a dead pid 1", func(t *testing.T, dir string) func() {
			writeLockFile(t, dir, "1\n")
			return nil
		}, false},
		{"left with garbage", func(t *testing.T, dir string) func() {
			writeLockFile(t, dir, "not a pid")
			return nil
		}, false},
		{"held by another open file in this process", func(t *testing.T, dir string) func() {
			writeLockFile(t, dir, "1\n")
			f, err := os.Open(filepath.Join(dir, lockFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
				t.Fatal(err)
			}
			return func() { f.Close() }
		}, true},
		{"held by another store in this process", func(t *testing.T, dir string) func() {
			other, err := Open(dir, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			unlock, err := other.Lock()
			if err != nil {
				t.Fatal(err)
			}
			return unlock
		}, true},
		{"held by a process that then crashes", func(t *testing.T, dir string) func() {
			return holdInChild(t, dir)
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			release := tc.before(t, dir)
			s, err := Open(dir, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			unlock, err := s.Lock()
			if tc.wantBusy {
				if !errors.Is(err, pipeline.ErrBusy) {
					t.Fatalf("Lock = %v; want ErrBusy", err)
				}
				release()
				if unlock, err = s.Lock(); err != nil {
					t.Fatalf("Lock once the holder let go = %v; want the lock", err)
				}
			} else if err != nil {
				t.Fatalf("Lock = %v; want the lock", err)
			}
			b, _ := os.ReadFile(filepath.Join(dir, lockFile))
			if got, want := strings.TrimSpace(string(b)), strconv.Itoa(os.Getpid()); got != want {
				t.Errorf("lock file holds %q; want this process's pid %s", got, want)
			}
			if _, err := s.Lock(); !errors.Is(err, pipeline.ErrBusy) {
				t.Errorf("second Lock while held = %v; want ErrBusy", err)
			}
			unlock()
			unlock() // twice is harmless
			if _, err := os.Stat(filepath.Join(dir, lockFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("unlock left %s behind (%v)", lockFile, err)
			}
			unlock, err = s.Lock()
			if err != nil {
				t.Fatalf("Lock after unlock = %v", err)
			}
			unlock()
		})
	}
}

func writeLockFile(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, lockFile), []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}
