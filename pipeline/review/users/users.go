// Package users is the review server's list of who may sign in: a small JSON
// file of names, roles and bcrypt hashes, kept by an administrator through
// the command line, plus the throttle that slows down password guessing.
//
// A password never leaves this package and never appears in an error: it is
// hashed on the way in and compared on the way back.
package users

import (
	"crypto/rand"
	"crypto/sha256"
	"earlyhelp/pipeline/atomicfile"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Roles.
const (
	// Navigator sees and decides about the households of their localities.
	Navigator = "navigator"
	// Auditor reads the fairness and override reports, not households.
	Auditor = "auditor"
	// Engineer runs the service: health, metrics, runs.
	Engineer = "engineer"
)

// Password length limits in bytes. bcrypt reads only the first 72 bytes, so
// a longer password would be accepted with any ending; it is refused
// instead of silently truncated.
const (
	MinPasswordBytes = 12
	MaxPasswordBytes = 72
)

// ErrBadCredentials is every failed sign-in, whether the name is unknown or
// the password wrong, so a caller cannot tell users which names exist.
var ErrBadCredentials = errors.New("users: bad credentials")

// RoleKey names an account's role in flags and logs, as its JSON does: an
// account's role, no relation to a household member's (households.role).
const RoleKey = "role"

// User is one person who may sign in.
type User struct {
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Localities []string `json:"localities,omitempty"`
	Hash       string   `json:"hash"`

	// stamp is a digest of Hash, kept when the hash is dropped, so Same
	// can tell a changed password without the hash leaving the package.
	stamp string
}

// clone returns u with its own Localities and without its hash: callers get
// who a user is, never the material to attack their password offline.
func (u User) clone() User {
	u.Localities = slices.Clone(u.Localities)
	if u.Hash != "" {
		sum := sha256.Sum256([]byte(u.Hash))
		u.stamp = hex.EncodeToString(sum[:8])
	}
	u.Hash = ""
	return u
}

// Same reports whether u and v are the same account with the same role,
// localities and password: whether a session begun as u may go on as v.
func (u User) Same(v User) bool {
	return u.Name == v.Name && u.Role == v.Role && slices.Equal(u.Localities, v.Localities) &&
		u.stamp != "" && u.stamp == v.stamp
}

// onDisk is the file's JSON form.
type onDisk struct {
	Users []User `json:"users"`
}

// File is the users file at one path. Every change is saved before it is
// visible, so memory never holds a user the file lacks; and every read
// first looks whether the file has changed on disk (another process, such
// as `earlyhelp users`, rewrote it) and re-reads it if so, so a removed user
// is gone from a running site at its next request. Make one with Load; it
// is safe for concurrent use.
type File struct {
	path string

	mu    sync.RWMutex
	users map[string]User
	// id is the file as it was when users was read from it; loadErr is
	// why it could not be read then, nil if it could.
	id      fileID
	loadErr error
	cost    int
	// dummy is a hash of a random password at cost, compared against when
	// the name is unknown so an unknown name takes as long as a wrong
	// password. Made on first use, because hashing at the default cost
	// takes tens of milliseconds.
	dummy []byte
}

// Load reads the users file at path. A missing file is an empty File that
// will be created at path by the first Add.
func Load(path string) (*File, error) {
	if path == "" {
		return nil, errors.New("users: load: empty path")
	}
	f := &File{path: path, users: make(map[string]User), cost: bcrypt.DefaultCost}
	if err := f.reloadLocked(); err != nil {
		return nil, err
	}
	return f, nil
}

// read reads and checks the users file at path; a missing file has no
// users.
func read(path string) (map[string]User, error) {
	users := make(map[string]User)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return users, nil
	}
	if err != nil {
		return nil, fmt.Errorf("users: load %s: %w", path, err)
	}
	var disk onDisk
	if err := json.Unmarshal(data, &disk); err != nil {
		return nil, fmt.Errorf("users: load %s: %w", path, err)
	}
	// A hand-edited or damaged file fails here, loudly, rather than later
	// as a navigator who cannot see their localities.
	for _, u := range disk.Users {
		if err := validate(u.Name, u.Role, u.Localities); err != nil {
			return nil, fmt.Errorf("users: load %s: %w", path, err)
		}
		if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
			return nil, fmt.Errorf("users: load %s: user %q has no usable bcrypt hash", path, u.Name)
		}
		if _, dup := users[u.Name]; dup {
			return nil, fmt.Errorf("users: load %s: user %q listed twice", path, u.Name)
		}
		u.Localities = slices.Clone(u.Localities)
		users[u.Name] = u
	}
	return users, nil
}

// refresh re-reads the file if it has changed since it was last read, and
// returns why it could not be read, if it could not. Stat-ing a small file
// on every sign-in and page is cheap next to the page; a file that changed
// and cannot be read is not trusted (see reloadLocked).
func (f *File) refresh() error {
	id, err := statFile(f.path)
	f.mu.RLock()
	same, loadErr := err == nil && id == f.id, f.loadErr
	f.mu.RUnlock()
	if same {
		return loadErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloadLocked()
}

// reloadLocked re-reads the file unless it is as last read. The identity
// is taken before reading, so a write that lands during the read changes
// it again and is read next time. A file that cannot be read fails
// closed: the File then has no users, signing nobody in and ending every
// session, rather than keep trusting a list an administrator has changed.
// The caller holds f.mu for writing.
func (f *File) reloadLocked() error {
	id, err := statFile(f.path)
	if err != nil {
		f.users, f.id, f.loadErr = map[string]User{}, fileID{}, fmt.Errorf("users: load %s: %w", f.path, err)
		return f.loadErr
	}
	if id == f.id && f.users != nil {
		return f.loadErr
	}
	users, err := read(f.path)
	if err != nil {
		users = map[string]User{}
	}
	f.users, f.id, f.loadErr = users, id, err
	return err
}

// SetCost sets the bcrypt cost of hashes made from now on; tests use
// bcrypt.MinCost for speed. As in bcrypt, a cost below bcrypt.MinCost means
// bcrypt.DefaultCost; one above bcrypt.MaxCost makes Add fail.
func (f *File) SetCost(c int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cost = c
	f.dummy = nil
}

// validName reports whether name is 2 to 64 of a-z, 0-9, '.', '_' and '-':
// safe in a log line, a URL and a file name without quoting.
func validName(name string) bool {
	if len(name) < 2 || len(name) > 64 {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func validate(name, role string, localities []string) error {
	if !validName(name) {
		return fmt.Errorf("user name %q is not 2-64 of a-z, 0-9, '.', '_' and '-'", name)
	}
	switch role {
	case Navigator:
		if len(localities) == 0 {
			return fmt.Errorf("navigator %q needs at least one locality", name)
		}
	case Auditor, Engineer:
		// Only navigators are scoped to localities; a locality on another
		// role would suggest a restriction that nothing enforces.
		if len(localities) > 0 {
			return fmt.Errorf("%s %q cannot have localities", role, name)
		}
	default:
		return fmt.Errorf("user %q has unknown role %q (want %s, %s or %s)", name, role, Navigator, Auditor, Engineer)
	}
	seen := make(map[string]bool, len(localities))
	for _, l := range localities {
		if l == "" {
			return fmt.Errorf("user %q has an empty locality", name)
		}
		if seen[l] {
			return fmt.Errorf("user %q lists locality %q twice", name, l)
		}
		seen[l] = true
	}
	return nil
}

// checkPassword applies the length rules every new password meets.
func checkPassword(password []byte) error {
	if len(password) < MinPasswordBytes {
		return fmt.Errorf("password is shorter than %d bytes", MinPasswordBytes)
	}
	if len(password) > MaxPasswordBytes {
		return fmt.Errorf("password is longer than the %d bytes bcrypt reads", MaxPasswordBytes)
	}
	return nil
}

// Add adds the user, or replaces the user of that name, and saves the file.
func (f *File) Add(name, role string, localities []string, password []byte) error {
	if err := validate(name, role, localities); err != nil {
		return fmt.Errorf("users: add: %w", err)
	}
	if err := checkPassword(password); err != nil {
		return fmt.Errorf("users: add %q: %w", name, err)
	}
	f.mu.RLock()
	cost := f.cost
	f.mu.RUnlock()
	// Hashed outside the lock: at the default cost this takes long enough
	// to stall every sign-in waiting on it.
	hash, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		// bcrypt's errors describe the cost or length, never the password.
		return fmt.Errorf("users: add %q: hash password: %w", name, err)
	}
	u := User{Name: name, Role: role, Localities: slices.Clone(localities), Hash: string(hash)}
	sort.Strings(u.Localities)

	f.mu.Lock()
	defer f.mu.Unlock()
	// Start from the file as it is now, not as this process last read it,
	// so a change made meanwhile by another process is kept.
	if err := f.reloadLocked(); err != nil {
		return fmt.Errorf("users: add %q: %w", name, err)
	}
	next := copyUsers(f.users)
	next[name] = u
	if err := f.save(next); err != nil {
		return fmt.Errorf("users: add %q: %w", name, err)
	}
	f.users = next
	return nil
}

// Remove removes the user and saves the file.
func (f *File) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.reloadLocked(); err != nil {
		return fmt.Errorf("users: remove %q: %w", name, err)
	}
	if _, ok := f.users[name]; !ok {
		return fmt.Errorf("users: remove %q: no such user", name)
	}
	next := copyUsers(f.users)
	delete(next, name)
	if err := f.save(next); err != nil {
		return fmt.Errorf("users: remove %q: %w", name, err)
	}
	f.users = next
	return nil
}

// SetPassword gives the named user a new password, by the same rules as
// Add, keeping their role and localities, and saves the file. A running
// site ends the user's sessions when it sees the change.
func (f *File) SetPassword(name string, password []byte) error {
	if err := checkPassword(password); err != nil {
		return fmt.Errorf("users: passwd %q: %w", name, err)
	}
	f.mu.RLock()
	cost := f.cost
	f.mu.RUnlock()
	hash, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		return fmt.Errorf("users: passwd %q: hash password: %w", name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.reloadLocked(); err != nil {
		return fmt.Errorf("users: passwd %q: %w", name, err)
	}
	u, ok := f.users[name]
	if !ok {
		return fmt.Errorf("users: passwd %q: no such user", name)
	}
	u.Hash = string(hash)
	next := copyUsers(f.users)
	next[name] = u
	if err := f.save(next); err != nil {
		return fmt.Errorf("users: passwd %q: %w", name, err)
	}
	f.users = next
	return nil
}

// copyUsers copies the user map, so a failed save leaves the old one
// untouched.
func copyUsers(m map[string]User) map[string]User {
	out := make(map[string]User, len(m)+1)
	maps.Copy(out, m)
	return out
}

// save writes users to the file atomically with mode 0600: the hashes are
// not secrets in the way passwords are, but they can be attacked offline.
// The caller holds f.mu.
func (f *File) save(users map[string]User) error {
	disk := onDisk{Users: make([]User, 0, len(users))}
	for _, u := range users {
		disk.Users = append(disk.Users, u)
	}
	sort.Slice(disk.Users, func(i, j int) bool { return disk.Users[i].Name < disk.Users[j].Name })
	data, err := json.MarshalIndent(disk, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(f.path, data, 0o600); err != nil {
		return err
	}
	return nil
}

// Lookup returns the named user, without the hash, as the file has them
// now. A file that cannot be read has no users.
func (f *File) Lookup(name string) (User, bool) {
	f.refresh() // on failure the File has no users: the caller sees none
	f.mu.RLock()
	defer f.mu.RUnlock()
	u, ok := f.users[name]
	if !ok {
		return User{}, false
	}
	return u.clone(), true
}

// Users returns every user sorted by name, without hashes.
func (f *File) Users() []User {
	f.refresh() // on failure the File has no users
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]User, 0, len(f.users))
	for _, u := range f.users {
		out = append(out, u.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Authenticate returns the user if password is theirs, and
// ErrBadCredentials if the name is unknown or the password wrong. Both
// failures run one bcrypt comparison, so their timing does not tell them
// apart. The caller is expected to consult a Throttle first.
func (f *File) Authenticate(name string, password []byte) (User, error) {
	if err := f.refresh(); err != nil {
		return User{}, fmt.Errorf("users: authenticate: %w", err)
	}
	f.mu.RLock()
	u, ok := f.users[name]
	f.mu.RUnlock()
	hash := []byte(u.Hash)
	if !ok {
		var err error
		if hash, err = f.dummyHash(); err != nil {
			return User{}, fmt.Errorf("users: authenticate: %w", err)
		}
	}
	err := bcrypt.CompareHashAndPassword(hash, password)
	switch {
	case !ok, len(password) > MaxPasswordBytes, errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		// Too long a password could only match on its first 72 bytes;
		// Add never stores one, so it is refused like a wrong one.
		return User{}, ErrBadCredentials
	case err != nil:
		return User{}, fmt.Errorf("users: authenticate %q: stored hash: %w", name, err)
	}
	return u.clone(), nil
}

// dummyHash returns the hash unknown names are compared against, made at
// the file's cost on first use. It is made outside the lock so sign-ins of
// known users do not wait on it; two racing first uses both make one, and
// either will do.
func (f *File) dummyHash() ([]byte, error) {
	f.mu.RLock()
	h, cost := f.dummy, f.cost
	f.mu.RUnlock()
	if h != nil {
		return h, nil
	}
	pw := make([]byte, 32)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.cost == cost {
		f.dummy = h
	}
	f.mu.Unlock()
	return h, nil
}
