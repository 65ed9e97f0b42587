package synthetic

import (
	"slices"
	"strconv"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

const deprivationFile = "incoming/deprivation/deprivation.csv"

// writeDeprivation writes the IoD2025 lookup for the council's LSOAs, sorted
// by code. The light profile saves it with a BOM, as Excel does.
func (g *generator) writeDeprivation() error {
	bom := g.light()
	f, err := g.out.create(deprivationFile, 0o644, bom, g.columns(connectors.Deprivation)...)
	if err != nil {
		return err
	}
	if bom {
		g.defects.add(deprivationFile, 1, contract.ColLSOACode, defectBOM, true)
	}
	order := make([]int, len(g.w.lsoas))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if g.w.lsoas[a].code < g.w.lsoas[b].code {
			return -1
		}
		return 1
	})
	for _, i := range order {
		l := g.w.lsoas[i]
		b := f.row()
		b = append(b, l.code...)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(l.imd), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(l.idaci), 10)
		b = append(b, ",IoD2025\n"...)
		f.end(b)
	}
	g.rows[connectors.Deprivation] = f.rows
	return nil
}
