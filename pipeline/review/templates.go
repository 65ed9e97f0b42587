package review

import (
	"embed"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

func parseTemplates() (*template.Template, error) {
	funcs := template.FuncMap{
		"path":   pathEscape,
		"date":   func(t time.Time) string { return t.Format("2 Jan 2006 15:04") },
		"band":   func(b string) string { return strings.ReplaceAll(b, " ", "-") },
		"label":  func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"pct":    func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
		"school": School,
		"reason": func(c string) string {
			if l, ok := reasonLabels()[c]; ok {
				return l
			}
			return c
		},
	}
	t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("review: templates: %w", err)
	}
	return t, nil
}

func pathEscape(s string) string { return url.PathEscape(s) }
