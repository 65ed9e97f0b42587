package pipeline

// Neutralise defuses a cell that a spreadsheet would run as a formula: one
// that begins with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe (OWASP's advice for CSV injection). Navigators and engineers
// open these files in Excel.
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func neutralise(s string) string { return Neutralise(s) }
