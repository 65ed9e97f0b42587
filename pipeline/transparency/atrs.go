package transparency

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"earlyhelp/pipeline"
)

// Standard is the version of the Algorithmic Transparency Recording
// Standard the record follows: the GOV.UK template v3.0, a metadata
// section, tier 1 (an overview for the public) and tier 2 in five
// sections (owner and responsibility; description and rationale;
// decision-making process; tool specification; risks, mitigations and
// impact assessments).
const Standard = "Algorithmic Transparency Recording Standard v3.0"

// Field is one field of the record: where it is filled from, or, when
// fill is nil or finds nothing, the one-line guide for the council.
type Field struct {
	ID      string
	Tier    string // "metadata", "1" or "2"
	Section string
	Name    string
	// Source says what fills the field: the config, the model card, the
	// audit, the manifest, the code, or the council.
	Source string
	Guide  string
	fill   func(r *run) string
}

// FieldValue is a field as written.
type FieldValue struct {
	ID         string `json:"id"`
	Tier       string `json:"tier"`
	Section    string `json:"section"`
	Name       string `json:"name"`
	Source     string `json:"source"`
	Value      string `json:"value"`
	ToComplete bool   `json:"to_complete"`
	Guide      string `json:"guide,omitempty"`
}

const (
	secMeta     = "Metadata"
	secOverview = "Overview"
	secOwner    = "Owner and responsibility"
	secRational = "Description and rationale"
	secDecision = "Decision-making process"
	secSpec     = "Tool specification"
	secRisks    = "Risks, mitigations and impact assessments"
	byCouncil   = "the council"
)

// Fields is the record's field list, in the template's order, each with
// the source it is filled from.
func Fields() []Field {
	return []Field{
		{ID: "0.1", Tier: "metadata", Section: secMeta, Name: "Title", Source: "config: council", fill: func(r *run) string {
			return "earlyhelp: a weekly list of families who might welcome an early-help offer, " + r.council()
		}},
		{ID: "0.2", Tier: "metadata", Section: secMeta, Name: "Organisation", Source: "config: council", fill: func(r *run) string { return r.in.Settings.Council }},
		{ID: "0.3", Tier: "metadata", Section: secMeta, Name: "Organisation type", Source: "code", fill: func(*run) string { return "Local authority" }},
		{ID: "0.4", Tier: "metadata", Section: secMeta, Name: "Function", Source: "code", fill: func(*run) string { return "Children's services: early help (family hubs)" }},
		{ID: "0.5", Tier: "metadata", Section: secMeta, Name: "Phase", Source: byCouncil, Guide: "Pre-deployment, beta/pilot, production or retired."},
		{ID: "0.6", Tier: "metadata", Section: secMeta, Name: "Geographic region", Source: byCouncil, Guide: "The council's area, e.g. the borough's name and 'England'."},

		{ID: "1.1", Tier: "1", Section: secOverview, Name: "Name", Source: "code", fill: func(*run) string { return "earlyhelp" }},
		{ID: "1.2", Tier: "1", Section: secOverview, Name: "Description", Source: "model card: intended use, label; config: list.capacity", fill: (*run).description},
		{ID: "1.3", Tier: "1", Section: secOverview, Name: "Website URL", Source: byCouncil, Guide: "The page where the council explains the tool to residents (the privacy notice's home)."},
		{ID: "1.4", Tier: "1", Section: secOverview, Name: "Contact email", Source: "config: governance.contact", Guide: "Set governance.contact in the config: a team mailbox, not a person's.", fill: func(r *run) string { return r.gov(func(g *Governance) string { return g.Contact }) }},

		{ID: "2.1.1", Tier: "2", Section: secOwner, Name: "Organisation or department", Source: "config: council", fill: func(r *run) string { return r.in.Settings.Council }},
		{ID: "2.1.2", Tier: "2", Section: secOwner, Name: "Team", Source: byCouncil, Guide: "The team that runs the tool day to day (e.g. the family hubs' data team)."},
		{ID: "2.1.3", Tier: "2", Section: secOwner, Name: "Senior responsible owner", Source: "config: governance.owner", Guide: "Set governance.owner in the config: the role accountable for the tool.", fill: func(r *run) string { return r.gov(func(g *Governance) string { return g.Owner }) }},
		{ID: "2.1.4", Tier: "2", Section: secOwner, Name: "External supplier", Source: byCouncil, Guide: "Who built or supports the tool for the council, or 'none: built and run in house'."},
		{ID: "2.1.5", Tier: "2", Section: secOwner, Name: "Supplier Companies House number", Source: byCouncil, Guide: "The supplier's company number, or 'not applicable'."},
		{ID: "2.1.6", Tier: "2", Section: secOwner, Name: "Supplier role", Source: byCouncil, Guide: "What the supplier does: development, hosting, support."},
		{ID: "2.1.7", Tier: "2", Section: secOwner, Name: "Procurement procedure type", Source: byCouncil, Guide: "How the supplier was procured (framework, open procedure), or 'not applicable'."},
		{ID: "2.1.8", Tier: "2", Section: secOwner, Name: "Data access terms", Source: byCouncil, Guide: "What data the supplier may see and on what terms (the data processing agreement)."},

		{ID: "2.2.1", Tier: "2", Section: secRational, Name: "Detailed description", Source: "model card: kind, features, never_features, training; manifest: model", fill: (*run).detailedDescription},
		{ID: "2.2.2", Tier: "2", Section: secRational, Name: "Scope", Source: "model card: intended use, limits; manifest: households", fill: (*run).scope},
		{ID: "2.2.3", Tier: "2", Section: secRational, Name: "Benefit", Source: "model card: backtest metrics; config: governance.targets", fill: (*run).benefit},
		{ID: "2.2.4", Tier: "2", Section: secRational, Name: "Previous process", Source: byCouncil, Guide: "How families were found for early help before (referrals, professionals' judgement)."},
		{ID: "2.2.5", Tier: "2", Section: secRational, Name: "Alternatives considered", Source: "model card: backtest against the baselines, choice rule", fill: (*run).alternatives},

		{ID: "2.3.1", Tier: "2", Section: secDecision, Name: "Process integration", Source: "config: schedule, list; code", fill: (*run).processIntegration},
		{ID: "2.3.2", Tier: "2", Section: secDecision, Name: "Provided information", Source: "code: the navigator list's columns (CONTRACTS §6)", fill: (*run).providedInformation},
		{ID: "2.3.3", Tier: "2", Section: secDecision, Name: "Frequency and scale of usage", Source: "manifest: households, list; config: list.capacity", fill: (*run).frequency},
		{ID: "2.3.4", Tier: "2", Section: secDecision, Name: "Human decisions and review", Source: "audit: decisions.csv; code", fill: (*run).humanReview},
		{ID: "2.3.5", Tier: "2", Section: secDecision, Name: "Required training", Source: byCouncil, Guide: "The training navigators receive before using the list (the guidance page, safeguarding)."},
		{ID: "2.3.6", Tier: "2", Section: secDecision, Name: "Appeals and review", Source: "code: objections source, subject access; config: governance.contact", fill: (*run).appeals},

		{ID: "2.4.1", Tier: "2", Section: secSpec, Name: "System architecture", Source: "code", fill: (*run).architecture},
		{ID: "2.4.2", Tier: "2", Section: secSpec, Name: "Phase", Source: byCouncil, Guide: "As in the metadata: pre-deployment, beta/pilot, production or retired."},
		{ID: "2.4.3", Tier: "2", Section: secSpec, Name: "Maintenance", Source: "config: schedule.retrain, governance.review_date, retention", fill: (*run).maintenance},
		{ID: "2.4.4", Tier: "2", Section: secSpec, Name: "Model name", Source: "model card: model_id", fill: func(r *run) string { return r.cardField(func(c *pipeline.ModelCard) string { return c.ModelID }) }},
		{ID: "2.4.5", Tier: "2", Section: secSpec, Name: "Model version", Source: "manifest: code_version; model card: model_id", fill: func(r *run) string {
			return r.cardField(func(c *pipeline.ModelCard) string { return c.ModelID + ", trained by earlyhelp " + r.man.CodeVersion })
		}},
		{ID: "2.4.6", Tier: "2", Section: secSpec, Name: "Model task", Source: "model card: label, horizon", fill: func(r *run) string {
			return r.cardField(func(c *pipeline.ModelCard) string {
				return fmt.Sprintf("Estimate, for each household, the chance that %s (horizon %d weeks).", c.Label, c.HorizonWeeks)
			})
		}},
		{ID: "2.4.7", Tier: "2", Section: secSpec, Name: "Model input", Source: "model card: features, never_features", fill: func(r *run) string {
			return r.cardField(func(c *pipeline.ModelCard) string {
				return fmt.Sprintf("%d household features: %s. Never a feature: %s, sex, SEN status.", len(c.Features), strings.Join(c.Features, ", "), strings.Join(c.Excluded, ", "))
			})
		}},
		{ID: "2.4.8", Tier: "2", Section: secSpec, Name: "Model output", Source: "code: scores.parquet, the list", fill: func(*run) string {
			return "A calibrated probability per household, its rank, and the features behind it (reason codes); the list turns the top of the ranking into bands in words, with each family's own dated signals as reasons."
		}},
		{ID: "2.4.9", Tier: "2", Section: secSpec, Name: "Model architecture", Source: "model card: kind, calibration", fill: func(r *run) string {
			return r.cardField(func(c *pipeline.ModelCard) string {
				s := "Model kind " + c.Kind + ", chosen by temporal backtest among the configured candidates"
				if c.Calibration != "" {
					s += "; scores calibrated on the held-out date " + c.Calibration
				}
				return s + "."
			})
		}},
		{ID: "2.4.10", Tier: "2", Section: secSpec, Name: "Model performance", Source: "model card: backtest_metrics; audit: fairness headline", fill: (*run).performance},
		{ID: "2.4.11", Tier: "2", Section: secSpec, Name: "Datasets", Source: "config: sources; manifest: rows loaded", fill: (*run).datasets},
		{ID: "2.4.12", Tier: "2", Section: secSpec, Name: "Dataset purposes", Source: "model card: training dates, backtest window, calibration date", fill: (*run).datasetPurposes},
		{ID: "2.4.13", Tier: "2", Section: secSpec, Name: "Source data name", Source: "config: sources", fill: (*run).sourceNames},
		{ID: "2.4.14", Tier: "2", Section: secSpec, Name: "Data modality", Source: "code", fill: func(*run) string { return "Tabular records (extracts of council and NHS systems)." }},
		{ID: "2.4.15", Tier: "2", Section: secSpec, Name: "Data description", Source: "config: sources; code: the connectors' columns", fill: (*run).dataDescription},
		{ID: "2.4.16", Tier: "2", Section: secSpec, Name: "Data quantities", Source: "manifest: rows read, loaded, quarantined; model card: training rows", fill: (*run).quantities},
		{ID: "2.4.17", Tier: "2", Section: secSpec, Name: "Sensitive attributes", Source: "code; model card: never_features", fill: (*run).sensitive},
		{ID: "2.4.18", Tier: "2", Section: secSpec, Name: "Data completeness and representativeness", Source: "manifest: quarantine, nulled cells, link match rates", fill: (*run).completeness},
		{ID: "2.4.19", Tier: "2", Section: secSpec, Name: "Source data URL", Source: byCouncil, Guide: "Usually 'not published: the council's own case-management systems'."},
		{ID: "2.4.20", Tier: "2", Section: secSpec, Name: "Data collection", Source: byCouncil, Guide: "How each source system collects its data and under which duty (school census, health visiting, housing)."},
		{ID: "2.4.21", Tier: "2", Section: secSpec, Name: "Data cleaning", Source: "code: validation and cell policy (CONTRACTS §2); manifest", fill: (*run).cleaning},
		{ID: "2.4.22", Tier: "2", Section: secSpec, Name: "Data sharing agreements", Source: byCouncil, Guide: "The agreements under which the NHS health-visiting and school data reach the council."},
		{ID: "2.4.23", Tier: "2", Section: secSpec, Name: "Data access and storage", Source: "code: pseudonymised store; config: retention", fill: (*run).storage},

		{ID: "2.5.1", Tier: "2", Section: secRisks, Name: "Impact assessment name", Source: "code: governance/", fill: func(*run) string {
			return "Data protection impact assessment (draft: governance/dpia.md); equality impact assessment (draft: governance/eqia.md)"
		}},
		{ID: "2.5.2", Tier: "2", Section: secRisks, Name: "Impact assessment description", Source: "code: governance/", fill: func(*run) string {
			return "Drafts made from this run: purposes and lawful bases, data flows, pseudonymisation, objections, retention, Art. 22, risks; the list's selection and recall by ethnicity, deprivation, age band, sex and SEN status."
		}},
		{ID: "2.5.3", Tier: "2", Section: secRisks, Name: "Impact assessment date", Source: byCouncil, Guide: "The date the DPO and the equality lead signed the assessments off."},
		{ID: "2.5.4", Tier: "2", Section: secRisks, Name: "Impact assessment link", Source: byCouncil, Guide: "Where the signed assessments are published, if they are."},
		{ID: "2.5.5", Tier: "2", Section: secRisks, Name: "Risks", Source: "code: the risks table, each tied to a test or metric", fill: (*run).riskList},
	}
}

// atrs fills every field from the run.
func (r *run) atrs() []FieldValue {
	var out []FieldValue
	for _, f := range Fields() {
		v := FieldValue{ID: f.ID, Tier: f.Tier, Section: f.Section, Name: f.Name, Source: f.Source}
		if f.fill != nil {
			v.Value = strings.TrimSpace(f.fill(r))
		}
		if v.Value == "" {
			v.Value, v.ToComplete, v.Guide = ToComplete, true, f.Guide
		}
		out = append(out, v)
	}
	return out
}

func (r *run) atrsJSON(fields []FieldValue) ([]byte, error) {
	doc := struct {
		Standard   string       `json:"standard"`
		RunID      string       `json:"run_id"`
		AsOf       string       `json:"as_of"`
		Written    string       `json:"written"`
		ConfigSHA  string       `json:"config_sha256"`
		Code       string       `json:"code_version"`
		Targets    string       `json:"targets"`
		Verdict    string       `json:"switch_off_verdict"`
		ToComplete int          `json:"fields_to_complete"`
		Fields     []FieldValue `json:"fields"`
	}{Standard: Standard, RunID: r.man.RunID, AsOf: r.man.AsOf, Written: r.written, ConfigSHA: r.in.Settings.ConfigSHA256, Code: r.man.CodeVersion, Targets: r.targetsLine(),
		Verdict: r.verdictText(), Fields: fields}
	for _, f := range fields {
		if f.ToComplete {
			doc.ToComplete++
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n'), err
}

func (r *run) atrsMarkdown(fields []FieldValue) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Algorithmic transparency record: earlyhelp, %s\n\n", r.council())
	r.targetsBanner(&b)
	fmt.Fprintf(&b, "Draft following the %s, made from run %s (as of %s) on %s. Fields marked **%s** are for the council to answer; each says what is wanted.\n\n",
		Standard, r.man.RunID, r.man.AsOf, r.written, ToComplete)
	fmt.Fprintf(&b, "Should this still run? %s.\n\n", r.verdictText())
	tier, section := "", ""
	for _, f := range fields {
		if f.Tier != tier {
			tier = f.Tier
			switch tier {
			case "metadata":
				b.WriteString("## Metadata\n\n")
			default:
				fmt.Fprintf(&b, "## Tier %s\n\n", tier)
			}
			section = ""
		}
		if f.Section != section && f.Tier != "metadata" {
			section = f.Section
			fmt.Fprintf(&b, "### %s\n\n", section)
		}
		fmt.Fprintf(&b, "**%s %s** (from %s)\n\n", f.ID, f.Name, f.Source)
		if f.ToComplete {
			fmt.Fprintf(&b, "**%s**: %s\n\n", ToComplete, f.Guide)
			continue
		}
		fmt.Fprintf(&b, "%s\n\n", f.Value)
	}
	return b.Bytes()
}

// targetsBanner says in large type that no targets were set, or lists
// the owner's targets and switch-off criteria.
func (r *run) targetsBanner(b *bytes.Buffer) {
	g := r.in.Settings.Governance
	if g == nil {
		fmt.Fprintf(b, "# %s\n\n", NoTargets)
		b.WriteString("The configuration has no `governance:` block: no owner, no review date, no targets set before go-live and no switch-off criteria. Set them before this tool is used.\n\n")
		return
	}
	fmt.Fprintf(b, "Owner: %s. Contact: %s. Review date: %s.\n\n", orDash(g.Owner), orDash(g.Contact), orDash(g.ReviewDate))
	if len(g.Targets) == 0 {
		fmt.Fprintf(b, "## %s\n\nThe governance block sets no targets.\n\n", NoTargets)
	} else {
		fmt.Fprintf(b, "Targets set in advance: %s.\n\n", strings.Join(g.Targets, "; "))
	}
	if len(g.SwitchOff) > 0 {
		fmt.Fprintf(b, "Switch-off criteria: %s.\n\n", strings.Join(g.SwitchOff, "; "))
	}
}

func (r *run) targetsLine() string {
	g := r.in.Settings.Governance
	if g == nil || len(g.Targets) == 0 {
		return strings.ToLower(NoTargets[:1]) + strings.ToLower(NoTargets[1:])
	}
	return strings.Join(g.Targets, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "not set"
	}
	return s
}

func (r *run) council() string {
	if c := r.in.Settings.Council; c != "" {
		return c
	}
	return r.man.Council
}

func (r *run) gov(f func(*Governance) string) string {
	if r.in.Settings.Governance == nil {
		return ""
	}
	return f(r.in.Settings.Governance)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
