package review

import "net/http"

// The pages that explain the list: a glossary for every role, and the
// navigators' guidance on contacting a family. Neither names a family.

func (s *Site) help(w http.ResponseWriter, r *http.Request, sess *session) {
	s.render(w, r, http.StatusOK, "help.html", sess, "What the list's words mean", nil)
}

// guidanceView is the guidance page's one variable part: the council's
// privacy-notice text, or "" for the default paragraph.
type guidanceView struct {
	PrivacyNotice string
}

func (s *Site) guidance(w http.ResponseWriter, r *http.Request, sess *session) {
	s.render(w, r, http.StatusOK, "guidance.html", sess, "Contacting a family: guidance for navigators",
		guidanceView{PrivacyNotice: s.cfg.PrivacyNotice})
}
