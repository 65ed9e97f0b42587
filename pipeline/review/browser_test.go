package review

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestIntegrationBrowser drives Debian's Chromium through the navigator's
// week and an auditor's visit. EARLYHELP_CHROMIUM names the browser
// (.ci/run sets /usr/bin/chromium); screenshots go to
// EARLYHELP_ARTEFACTS, or the test's temporary folder.
func TestIntegrationBrowser(t *testing.T) {
	exe := os.Getenv("EARLYHELP_CHROMIUM")
	if exe == "" {
		t.Skip("EARLYHELP_CHROMIUM is not set: set it to a Chromium binary (e.g. /usr/bin/chromium) to run the browser test")
	}
	artefacts := os.Getenv("EARLYHELP_ARTEFACTS")
	if artefacts == "" {
		artefacts = t.TempDir()
	}
	if err := os.MkdirAll(artefacts, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 1024),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// settled evaluates js until it returns a string ok accepts, and
	// returns that string. Reading the page this way rides out
	// navigations: an evaluation made while a redirect lands fails or
	// sees the old page, and is tried again, where a node found a moment
	// earlier can vanish with its document ("No node with given id").
	settled := func(what, js string, ok func(string) bool) string {
		t.Helper()
		var last string
		var lastErr error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			last, lastErr = chromedp.Run(ctx, chromedp.Evaluate[string](js))
			if lastErr == nil && ok(last) {
				return last
			}
		}
		t.Fatalf("%s: page never settled: last saw %q (error %v)", what, last, lastErr)
		return ""
	}
	// text reads an element's text by CSS selector, once the page has
	// finished loading and shows it (see settled).
	text := func(sel string) string {
		t.Helper()
		q := strconv.Quote(sel)
		return settled("text of "+sel,
			`(document.readyState === "complete" && document.querySelector(`+q+`)) ? document.querySelector(`+q+`).innerText : ""`,
			func(s string) bool { return s != "" })
	}
	focused := func() string {
		t.Helper()
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(artefacts, name)
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	signIn := func(name string) {
		t.Helper()
		do("sign in "+name,
			chromedp.Navigate(h.srv.URL+"/login"),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), name),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.ID("sign-in")),
		)
	}

	// The navigator: list, family, a decision made with the keyboard alone.
	signIn("nav")
	settled("the navigator's sign-in", `location.pathname + "|" + document.readyState`,
		func(s string) bool { return s == "/list|complete" })
	do("list", chromedp.WaitVisible(chromedp.ID("navigator-list")))
	listText := text("#navigator-list")
	shot("navigator_list.png")
	if !strings.Contains(listText, "HH-1001") || strings.Contains(listText, "HH-2002") {
		t.Fatalf("list shows the wrong families: %q", listText)
	}
	do("family page",
		chromedp.Click(chromedp.CSS(`a[href="/family/HH-1001"]`)),
		chromedp.WaitVisible(chromedp.ID("decision-form")),
		chromedp.WaitVisible(chromedp.CSS("svg.eh-timeline")),
	)
	if reasons := text("#reasons"); !strings.Contains(reasons, "attendance fell") {
		t.Errorf("reasons: %q", reasons)
	}
	// The contact-safety panel comes before the reasons, as the reader
	// meets them.
	if order := settled("the safety panel's place",
		`(document.querySelector("#contact-safety") && document.querySelector("#reasons")) ? String(document.querySelector("#contact-safety").compareDocumentPosition(document.querySelector("#reasons")) & Node.DOCUMENT_POSITION_FOLLOWING) : ""`,
		func(s string) bool { return s != "" }); order == "0" {
		t.Error("the contact-safety panel is not before the reasons")
	}
	if panel := text("#contact-safety"); !strings.Contains(panel, "safeguarding lead") {
		t.Errorf("safety panel: %q", panel)
	}
	shot("family_page.png")

	// Keyboard only: Tab from the top of the page until the first
	// decision radio has focus, Space to choose it, Tab to the note, type,
	// Tab to the button, Enter.
	reached := false
	for i := 0; i < 60 && !reached; i++ {
		do("tab", chromedp.KeyEvent("\t"))
		reached = focused() == "decision"
	}
	if !reached {
		t.Fatal("Tab never reached the decision form")
	}
	do("choose", chromedp.KeyEvent(" "), chromedp.KeyEvent("\t"))
	if f := focused(); f != "note" {
		t.Fatalf("after the radios Tab went to %q; want the note", f)
	}
	do("note", chromedp.KeyEvent("Left a message with the school"), chromedp.KeyEvent("\t"))
	if f := focused(); f != "save-decision" {
		t.Fatalf("Tab after the note went to %q; want the save button", f)
	}
	do("save", chromedp.KeyEvent("\r"))
	banner := settled("the saved decision's banner",
		`(location.search === "?saved=1" && document.readyState === "complete" && document.querySelector(".govuk-notification-banner--success")) ? document.querySelector(".govuk-notification-banner--success").innerText : ""`,
		func(s string) bool { return s != "" })
	if !strings.Contains(banner, "recorded") {
		t.Errorf("banner %q", banner)
	}
	do("list again", chromedp.Navigate(h.srv.URL+"/list"), chromedp.WaitVisible(chromedp.ID("navigator-list")))
	if listText = text("#navigator-list"); !strings.Contains(listText, "offer made") {
		t.Errorf("the decision is not on the list: %q", listText)
	}
	// The list as printed: the marking on every page, a locality to a
	// section (and a page), the glossary last.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatalf("print media: %v", err)
	}
	printed := settled("the printed list",
		`(document.readyState === "complete" && document.querySelector("#marking-top")) ? [
			document.querySelector("#marking-top").innerText,
			getComputedStyle(document.querySelector("#marking-top")).position,
			getComputedStyle(document.querySelector("#marking-bottom")).position,
			document.querySelectorAll("section.eh-locality").length,
			getComputedStyle(document.querySelectorAll("section.eh-locality")[1]).breakBefore,
			getComputedStyle(document.querySelector(".eh-print-glossary")).display,
			getComputedStyle(document.querySelector(".eh-list-filter")).display,
		].join("|") : ""`,
		func(s string) bool { return s != "" })
	if want := "OFFICIAL-SENSITIVE|fixed|fixed|2|page|block|none"; printed != want {
		t.Errorf("printed list (marking|top|bottom|sections|second section breaks|glossary|filter) = %q; want %q", printed, want)
	}
	shot("navigator_list_print.png")
	pdf, err := chromedp.Call(ctx, cdppage.PrintToPDF, cdppage.PrintToPDFParams{})
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	if err := os.WriteFile(filepath.Join(artefacts, "navigator_list.pdf"), pdf.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Two localities and the glossary: three pages at least.
	if pages := len(regexp.MustCompile(`/Type\s*/Page\b[^s]`).FindAll(pdf.Data, -1)); pages < 3 {
		t.Errorf("the printed list has %d pages; want a page for each of 2 localities and the glossary", pages)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	do("help", chromedp.Navigate(h.srv.URL+"/help"), chromedp.WaitVisible(chromedp.ID("what-this-list-is-not")))
	shot("help.png")

	log, err := os.ReadFile(filepath.Join(dataDir, "review", "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `"user":"nav","role":"navigator","household_ref":"HH-1001"`) ||
		!strings.Contains(string(log), "recorded a decision: offer_made") {
		t.Errorf("access log lacks the view or the decision:\n%s", log)
	}

	// The auditor: every page free of household references.
	do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("username")))
	signIn("aud")
	// Wait for sign-in's redirect to land before navigating on, or the
	// next navigation aborts it. An evaluation during the navigation
	// fails; it is tried again.
	settled("the auditor's sign-in", `location.pathname + "|" + document.readyState`,
		func(s string) bool { return s == "/audit|complete" })
	for _, page := range []string{"/audit", "/model", "/audit/report"} {
		do(page, chromedp.Navigate(h.srv.URL+page), chromedp.WaitVisible(chromedp.CSS("h1")))
		html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		if err != nil {
			t.Fatalf("auditor %s: %v", page, err)
		}
		for _, ref := range append(refs, "hh_aaaa", "P-1") {
			if strings.Contains(html, ref) {
				t.Errorf("auditor page %s shows %s", page, ref)
			}
		}
	}
}
