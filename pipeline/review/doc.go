// Package review is the navigators' review site served by `earlyhelp
// serve` (CONTRACTS §9): this week's list for a navigator's localities, a
// family page with the reasons and a timeline of the signals, a decision
// form, and the auditors' and engineers' pages, which show no household.
//
// The list is a prompt for a conversation: nothing here acts towards a
// family. Every view of an identified family is appended to the access log
// and flushed to disk before the page is sent. Pages are server-rendered
// html/template with GOV.UK Frontend styling (package assets); the
// Content-Security-Policy allows no inline script.
package review
