package review

import (
	"net/http"
	"net/url"
	"testing"

	"earlyhelp/pipeline/review/users"
)

// gatedAccounts holds every wrong-password comparison until release is
// closed, so a test can have many of them in flight at once.
type gatedAccounts struct {
	*users.File
	entered chan struct{}
	release chan struct{}
}

func (g *gatedAccounts) Authenticate(name string, pw []byte) (users.User, error) {
	if string(pw) != password {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.File.Authenticate(name, pw)
}

// TestLockoutUnderLoad: 39 wrong passwords for one name at once, then the
// right one. No more than ten are ever compared, and the right one,
// submitted once ten are in flight or counted, is refused while the name
// is locked.
func TestLockoutUnderLoad(t *testing.T) {
	dataDir, uf := fixture(t)
	g := &gatedAccounts{File: uf, entered: make(chan struct{}, 64), release: make(chan struct{})}
	h := newHarness(t, dataDir, uf, func(c *Config) {
		c.Users = g
		// One test address: only the per-name limit is under test here.
		c.AddrThrottle = users.NewThrottle(1000, users.DefaultAddrWindow, users.DefaultAddrLockout, nil)
	})
	// Each attempt from its own browser, with its own sign-in form.
	type attempt struct {
		c    *http.Client
		form url.Values
	}
	prepare := func(pw string) attempt {
		c := client(t)
		_, body, _ := get(t, c, h.srv.URL+"/login")
		return attempt{c, url.Values{"username": {"nav"}, "password": {pw}, "csrf_token": {csrf(t, body)}}}
	}
	var wrong []attempt
	for range 39 {
		wrong = append(wrong, prepare("wrong password!"))
	}
	codes := make(chan int, len(wrong))
	for _, a := range wrong {
		go func() {
			resp, err := a.c.PostForm(h.srv.URL+"/login", a.form)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	// Wait until every wrong attempt is either being compared or refused.
	compared, refused, other := 0, 0, 0
	for compared+refused < len(wrong) {
		select {
		case <-g.entered:
			compared++
		case code := <-codes:
			if code == http.StatusTooManyRequests {
				refused++
			} else {
				other++
				refused++ // settled one way or another
			}
		}
	}
	right := prepare(password)
	if code, _, _ := post(t, right.c, h.srv.URL+"/login", right.form); code != http.StatusTooManyRequests {
		t.Errorf("right password with %d wrong ones in flight: %d; want 429", compared, code)
	}
	close(g.release)
	for range len(wrong) - refused {
		if code := <-codes; code != http.StatusUnauthorized {
			other++
		}
	}
	if compared > users.DefaultMaxFailures {
		t.Errorf("%d wrong passwords compared; want at most %d", compared, users.DefaultMaxFailures)
	}
	if other > 0 {
		t.Errorf("%d wrong attempts answered neither 401 nor 429", other)
	}
	// Now counted, not merely in flight: still locked.
	right = prepare(password)
	if code, _, _ := post(t, right.c, h.srv.URL+"/login", right.form); code != http.StatusTooManyRequests {
		t.Errorf("right password after ten failures: %d; want 429", code)
	}
}

// TestLockoutByAddress: one address guessing across many names is refused
// after 30 failures, even for a name of its own with the right password.
func TestLockoutByAddress(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	for i := range users.DefaultAddrMaxFailures {
		name := "guess" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if _, code := h.signIn(t, name, "wrong password!"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d; want 401", i+1, code)
		}
	}
	if _, code := h.signIn(t, "aud", password); code != http.StatusTooManyRequests {
		t.Errorf("sign-in after 30 failures from the address: %d; want 429", code)
	}
}
