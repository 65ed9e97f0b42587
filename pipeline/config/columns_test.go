package config

import "testing"

// TestSourceColumnsAndDelimiter: sources.<name>.columns and .delimiter
// (issue 23). Inline, since the fixtures folder is shared with other keys'
// work.
func TestSourceColumnsAndDelimiter(t *testing.T) {
	const head = "council: X\ndata_dir: ./var\nsources:\n  csc_referrals: {kind: csvdir, path: ./c}\n  early_help_episodes: {kind: csvdir, path: ./e}\n  objections: {kind: csvdir, path: ./o}\n"
	tests := []struct {
		name, yaml string
		wantErr    string
	}{
		{"map and delimiter", "  attendance_sessions:\n    kind: csvdir\n    path: ./a\n    delimiter: \";\"\n    columns:\n      school_urn: School URN\n      session_date: \"Session Date\"\n", ""},
		{"tab", "  attendance_sessions: {kind: csvdir, path: ./a, delimiter: \"\\t\"}\n", ""},
		{"auto", "  attendance_sessions: {kind: csvdir, path: ./a, delimiter: auto}\n", ""},
		{"bad delimiter", "  attendance_sessions: {kind: csvdir, path: ./a, delimiter: \":\"}\n",
			`c.yaml:7: sources.attendance_sessions.delimiter: ":": want auto, ",", ";", "\t" or "|", for kind csvdir only`},
		{"delimiter for postgres", "  persons: {kind: postgres, dsn_env: PG, query: select 1, delimiter: \";\"}\n",
			`c.yaml:7: sources.persons.delimiter: ";": want auto, ",", ";", "\t" or "|", for kind csvdir only`},
		{"columns for parquet", "  persons:\n    kind: parquetdir\n    path: ./p\n    columns: {person_id: Person}\n",
			"c.yaml:10: sources.persons.columns: is for kind csvdir only (a query or a Parquet file names its columns itself)"},
		{"empty header", "  attendance_sessions:\n    kind: csvdir\n    path: ./a\n    columns:\n      upn: \"  \"\n",
			"c.yaml:11: sources.attendance_sessions.columns.upn: needs the header the file writes for upn"},
		{"one header for two columns", "  attendance_sessions:\n    kind: csvdir\n    path: ./a\n    columns:\n      session: Session\n      session_date: session\n",
			`c.yaml:12: sources.attendance_sessions.columns.session_date: header "session" is already mapped to session`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(head+tc.yaml))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got error %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "tab" && c.Sources["attendance_sessions"].Delimiter != "\t" {
				t.Errorf("delimiter: got %q; want a tab", c.Sources["attendance_sessions"].Delimiter)
			}
		})
	}
}

// CheckColumns names a key of the map that is not a contract column, at
// its line.
func TestCheckColumns(t *testing.T) {
	const y = "council: X\ndata_dir: ./var\nmissing_sources_accepted: {objections: test, early_help_episodes: test, csc_referrals: test}\nsources:\n  attendance_sessions:\n    kind: csvdir\n    path: ./a\n    columns:\n      school_urn: School URN\n      school_name: School\n"
	c, err := Parse("c.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	contract := []string{"school_urn", "upn", "session_date"}
	err = c.CheckColumns("attendance_sessions", contract)
	want := `c.yaml:10: sources.attendance_sessions.columns.school_name: "school_name" is not a column of attendance_sessions (its columns: school_urn, upn, session_date)`
	if err == nil || err.Error() != want {
		t.Errorf("got error %v; want %q", err, want)
	}
	if err := c.CheckColumns("attendance_sessions", append(contract, "school_name")); err != nil {
		t.Errorf("a map of contract columns: got %v; want no error", err)
	}
}
