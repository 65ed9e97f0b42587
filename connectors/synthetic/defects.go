package synthetic

import "strconv"

// Defect types written to truth/defects.csv. Row-level types use the
// quarantine reasons of CONTRACTS §2, so a test can match what the pipeline
// quarantined against what was injected.
const (
	defectBOM       = "utf8_bom"  // file starts with EF BB BF; still valid
	defectDMY       = "dmy_dates" // dd/mm/yyyy dates throughout a file; still valid
	defectUPNCheck  = "bad_upn_check"
	defectCode      = "bad_code"
	defectDate      = "bad_date"
	defectNHSCheck  = "bad_nhs_check"
	defectDuplicate = "duplicate"
	defectMissing   = "missing_required"
)

// Light profile rates per attendance row.
const (
	lightBadUPN  = 0.0005
	lightBadCode = 0.0002
	lightBadDate = 0.0001
)

// defectLog streams truth/defects.csv. A row_number of 0 means every data
// row of the file (a file-wide format); 1 is the header row.
type defectLog struct {
	f *csvFile
}

func (d *defectLog) add(file string, row int64, column, kind string, stillValid bool) {
	b := d.f.row()
	b = append(b, file...)
	b = append(b, ',')
	b = strconv.AppendInt(b, row, 10)
	b = append(b, ',')
	b = append(b, column...)
	b = append(b, ',')
	b = append(b, kind...)
	b = append(b, ',')
	b = strconv.AppendBool(b, stillValid)
	d.f.end(append(b, '\n'))
}
