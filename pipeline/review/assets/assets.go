// Package assets serves the review site's styling and scripts: GOV.UK
// Frontend compiled with a few project styles, embedded in the binary so the
// site needs no Node.js, CDN or asset directory at run time.
//
// The files under static/ are build outputs and are committed:
//
//   - app.css: src/app.scss compiled with Dart Sass; GOV.UK Frontend plus the
//     .eh-timeline, .eh-band--* and print styles.
//   - govuk-frontend.min.js: GOV.UK Frontend's ES module bundle, unchanged.
//   - init.js: marks <body> as supported and calls initAll. It is an external
//     file because the site's Content-Security-Policy forbids inline script.
//     Pages load it with <script type="module" src="/assets/init.js"> and
//     give <body> the class "govuk-template__body".
//   - LICENSE-govuk-frontend.txt: GOV.UK Frontend's MIT licence.
//
// To rebuild them after changing src/app.scss or the versions pinned in
// package.json (exact versions, locked in package-lock.json), run from the
// repository root
//
//	bash pipeline/review/assets/build.sh
//
// and commit the changed files in static/. It needs Node.js and npm;
// node_modules/ is not committed.
//
// This is a council's internal service, not a GOV.UK service. The GDS
// Transport typeface and the crown (and the royal coat of arms in the
// footer) are reserved for services on GOV.UK, so app.css uses the system
// font stack with GOV.UK Frontend's default @font-face rules turned off, and
// the build copies no fonts and no crown or crest images; the footer's crest
// is suppressed in CSS.
package assets

import (
	"embed"
	"io/fs"
	"net/http"
)

// Static holds the built files; they are served from static/ under /assets/.
//
//go:embed static
var Static embed.FS

// Handler serves the embedded files at /assets/, for example /assets/app.css.
// Mount it as mux.Handle("/assets/", assets.Handler()). Responses may be
// cached for a day and are marked nosniff; unknown paths are 404.
func Handler() http.Handler {
	sub, err := fs.Sub(Static, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path name, and "static" is valid.
		panic("assets: " + err.Error())
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
