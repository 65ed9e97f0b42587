package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/config"
)

// councilLabel names the council an object belongs to. Every overlay sets
// it on every object and Pod template (kustomize labels, includeTemplates),
// and a council's namespace is "earlyhelp-" + its value.
const councilLabel = "app.kubernetes.io/instance"

// crossedDir holds kustomizations the boundary checker must reject.
const crossedDir = "testdata/deploy-crossed"

// podTemplate is what one workload's Pod template may reach.
type podTemplate struct {
	kind, name, namespace string
	council               string // the workload's council label
	templateCouncil       string // the Pod template's
	secrets, claims       []string
	images                []string
}

// k8sObject is a Secret or claim a pod may mount, with where it lives.
type k8sObject struct{ kind, name, namespace, council string }

// deployment is a set of manifests, rendered or read from the overlays.
type deployment struct {
	pods    []podTemplate
	objects []k8sObject
}

// councils lists the councils whose pods the deployment runs.
func (d deployment) councils() []string {
	seen := map[string]bool{}
	for _, p := range d.pods {
		seen[p.council] = true
	}
	var out []string
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// checkBoundary returns every way a council's pod reaches past its council:
// a namespace not its own, a Secret or claim not declared in that namespace
// for that council, or an image not pinned to a release.
func checkBoundary(d deployment) []string {
	var problems []string
	if len(d.pods) == 0 {
		return []string{"no Pod template at all"}
	}
	owner := map[string]string{} // kind/namespace/name → council
	for _, o := range d.objects {
		owner[o.kind+"/"+o.namespace+"/"+o.name] = o.council
	}
	for _, p := range d.pods {
		at := fmt.Sprintf("%s %s/%s", p.kind, p.namespace, p.name)
		switch {
		case p.council == "":
			problems = append(problems, fmt.Sprintf("%s has no %s label: it belongs to no council", at, councilLabel))
			continue
		case p.namespace != "earlyhelp-"+p.council:
			problems = append(problems, fmt.Sprintf("%s of council %s runs in namespace %s, not earlyhelp-%s", at, p.council, p.namespace, p.council))
		case p.templateCouncil != p.council:
			problems = append(problems, fmt.Sprintf("%s of council %s makes pods labelled council %q", at, p.council, p.templateCouncil))
		}
		mounts := func(kind string, names []string) {
			for _, n := range names {
				c, ok := owner[kind+"/"+p.namespace+"/"+n]
				switch {
				case !ok:
					problems = append(problems, fmt.Sprintf("%s mounts %s %s, which council %s does not declare in %s", at, kind, n, p.council, p.namespace))
				case c != p.council:
					problems = append(problems, fmt.Sprintf("%s mounts %s %s, which belongs to council %q", at, kind, n, c))
				}
			}
		}
		mounts("Secret", p.secrets)
		mounts("PersistentVolumeClaim", p.claims)
		for _, img := range p.images {
			if why := unpinned(img); why != "" {
				problems = append(problems, fmt.Sprintf("%s runs image %s: %s", at, img, why))
			}
		}
	}
	return problems
}

// unpinned says why an image reference does not name one release: no tag
// (which means :latest) or the latest tag itself. A digest always pins.
func unpinned(ref string) string {
	if strings.Contains(ref, "@sha256:") {
		return ""
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	i := strings.LastIndex(name, ":")
	switch {
	case i < 0:
		return "no tag, which means :latest"
	case name[i+1:] == "latest":
		return "the :latest tag"
	}
	return ""
}

// podTemplateOf finds a workload's Pod template (metadata and spec).
func podTemplateOf(doc map[string]any) map[string]any {
	path := map[string][]string{
		"Deployment": {"spec", "template"}, "StatefulSet": {"spec", "template"},
		"DaemonSet": {"spec", "template"}, "ReplicaSet": {"spec", "template"},
		"Job": {"spec", "template"}, "CronJob": {"spec", "jobTemplate", "spec", "template"},
	}
	kind, _ := doc["kind"].(string)
	if kind == "Pod" {
		return doc
	}
	keys, ok := path[kind]
	if !ok {
		return nil
	}
	m := doc
	for _, k := range keys {
		if m, ok = m[k].(map[string]any); !ok {
			return nil
		}
	}
	return m
}

// refsIn collects, anywhere under v, the Secrets and claims a Pod spec (or a
// patch to one) names and the images it runs: volumes' secretName and
// claimName, projected volumes' secret, env's secretKeyRef, envFrom's
// secretRef.
func refsIn(v any, p *podTemplate) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			s, isStr := x.(string)
			switch {
			case k == "secretName" && isStr:
				p.secrets = append(p.secrets, s)
			case k == "claimName" && isStr:
				p.claims = append(p.claims, s)
			case k == "image" && isStr:
				p.images = append(p.images, s)
			case k == "secretKeyRef" || k == "secretRef" || k == "secret":
				if m, ok := x.(map[string]any); ok {
					if n, ok := m["name"].(string); ok {
						p.secrets = append(p.secrets, n)
					}
				}
			}
			refsIn(x, p)
		}
	case []any:
		for _, x := range v {
			refsIn(x, p)
		}
	}
}

func labelOf(m map[string]any) string {
	md, _ := m["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	c, _ := labels[councilLabel].(string)
	return c
}

// deploymentOf reads rendered manifests (`kubectl kustomize` output).
func deploymentOf(docs []map[string]any) deployment {
	var d deployment
	for _, doc := range docs {
		kind, _ := doc["kind"].(string)
		md, _ := doc["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		switch kind {
		case "Secret", "PersistentVolumeClaim":
			d.objects = append(d.objects, k8sObject{kind, name, ns, labelOf(doc)})
		}
		if tpl := podTemplateOf(doc); tpl != nil {
			p := podTemplate{kind: kind, name: name, namespace: ns, council: labelOf(doc), templateCouncil: labelOf(tpl)}
			refsIn(tpl["spec"], &p)
			d.pods = append(d.pods, p)
		}
	}
	return d
}

// decodeDocs decodes every YAML document of b.
func decodeDocs(b []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// renderKustomize renders dir with `kubectl kustomize`.
func renderKustomize(kubectl, dir string) (deployment, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return deployment{}, fmt.Errorf("kubectl kustomize %s: %v: %s", dir, err, stderr.String())
	}
	docs, err := decodeDocs(out)
	if err != nil {
		return deployment{}, fmt.Errorf("kubectl kustomize %s: %w", dir, err)
	}
	return deploymentOf(docs), nil
}

// boundaryTree copies deploy/kubernetes and the crossed kustomizations into
// a temporary folder, keeping their relative paths, and gives every
// secretGenerator the throwaway file it reads: the real key files are
// never in git, and kustomize will not render without them.
func boundaryTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	copyTree := func(from, to string) {
		err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(from, path)
			dst := filepath.Join(to, rel)
			if d.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	copyTree(filepath.Join(deployDir, "kubernetes"), filepath.Join(root, "deploy", "kubernetes"))
	copyTree(crossedDir, filepath.Join(root, "cmd", "earlyhelp", crossedDir))
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "kustomization.yaml" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var k struct {
			SecretGenerator []struct {
				Files []string `yaml:"files"`
			} `yaml:"secretGenerator"`
		}
		if err := yaml.Unmarshal(b, &k); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, g := range k.SecretGenerator {
			for _, f := range g.Files {
				f = f[strings.Index(f, "=")+1:]
				dst := filepath.Join(filepath.Dir(path), f)
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(dst, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDeployBoundary renders every council overlay, the regional example
// and each crossed kustomization under testdata/deploy-crossed, and checks
// that each council's pods run in its own namespace and mount only its own
// Secret and claims, on a pinned image. With kubectl on PATH both the
// rendered manifests and the overlay files read directly are checked, and
// must agree; without it, only the files.
func TestDeployBoundary(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Log("kubectl is not on PATH: not rendering with kubectl kustomize; checking the overlay files as read directly")
	}
	root := boundaryTree(t)
	type tc struct {
		name     string
		dir      string // under root
		councils []string
		want     string // a problem the checker must report; "" for none
	}
	var cases []tc
	overlays, _ := filepath.Glob(filepath.Join(deployDir, "kubernetes", "overlays", "*"))
	if len(overlays) < 3 {
		t.Fatalf("deploy/kubernetes/overlays has %d councils; want the regional example's three", len(overlays))
	}
	var all []string
	for _, o := range overlays {
		c := filepath.Base(o)
		all = append(all, c)
		cases = append(cases, tc{"overlay " + c, "deploy/kubernetes/overlays/" + c, []string{c}, ""})
	}
	sort.Strings(all)
	cases = append(cases,
		tc{"regional example", "deploy/kubernetes/regional", all, ""},
		tc{"a patch mounting another council's Secret", "cmd/earlyhelp/" + crossedDir + "/secret", nil,
			"Deployment earlyhelp-northshire/northshire-earlyhelp mounts Secret eastbrook-earlyhelp-secrets, which council northshire does not declare in earlyhelp-northshire"},
		tc{"a Job mounting another council's claim", "cmd/earlyhelp/" + crossedDir + "/claim", nil,
			"Job earlyhelp-eastbrook/eastbrook-earlyhelp-backfill mounts PersistentVolumeClaim westvale-earlyhelp-data, which council eastbrook does not declare"},
		tc{"a council in a shared namespace", "cmd/earlyhelp/" + crossedDir + "/shared-namespace", nil,
			"Deployment earlyhelp/westvale-earlyhelp of council westvale runs in namespace earlyhelp, not earlyhelp-westvale"},
		tc{"an image at latest", "cmd/earlyhelp/" + crossedDir + "/latest", nil,
			"runs image registry.example.org/earlyhelp:latest: the :latest tag"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, filepath.FromSlash(c.dir))
			type reading struct {
				how string
				d   deployment
			}
			parsed, err := parseOverlay(dir)
			if err != nil {
				t.Fatalf("reading the overlay files: %v", err)
			}
			readings := []reading{{"overlay files", parsed}}
			if kubectl != "" {
				rendered, err := renderKustomize(kubectl, dir)
				if err != nil {
					t.Fatal(err)
				}
				readings = append(readings, reading{"kubectl kustomize", rendered})
			}
			for _, r := range readings {
				problems := checkBoundary(r.d)
				if c.want == "" {
					if len(problems) > 0 {
						t.Errorf("%s: %d problems:\n%s", r.how, len(problems), strings.Join(problems, "\n"))
					}
					if got := r.d.councils(); strings.Join(got, ",") != strings.Join(c.councils, ",") {
						t.Errorf("%s: councils %v; want %v", r.how, got, c.councils)
					}
					// Every council runs serve and the weekly CronJob.
					if got, want := len(r.d.pods), 2*len(c.councils); got != want {
						t.Errorf("%s: %d Pod templates; want %d", r.how, got, want)
					}
					continue
				}
				found := false
				for _, p := range problems {
					found = found || strings.Contains(p, c.want)
				}
				if !found {
					t.Errorf("%s: the checker did not report %q; it reported:\n%s", r.how, c.want, strings.Join(problems, "\n"))
				}
			}
		})
	}
}

var imageLine = regexp.MustCompile(`(?m)^\s*(?:-\s*)?image:\s*["']?([^"'\s#]+)`)
var fromLine = regexp.MustCompile(`(?mi)^FROM\s+(\S+)`)
var newTagLine = regexp.MustCompile(`(?m)^\s*newTag:\s*["']?([^"'\s#]+)`)

// TestDeployNoLatestImage: no file under deploy/ names an image by :latest
// or without a tag, and no kustomization moves one to latest.
func TestDeployNoLatestImage(t *testing.T) {
	images := 0
	for _, f := range deployFiles(t, ".yaml", ".yml", "Dockerfile") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, m := range imageLine.FindAllStringSubmatch(string(b), -1) {
			refs = append(refs, m[1])
		}
		if filepath.Base(f) == "Dockerfile" {
			for _, m := range fromLine.FindAllStringSubmatch(string(b), -1) {
				refs = append(refs, m[1])
			}
		}
		for _, ref := range refs {
			images++
			if why := unpinned(ref); why != "" {
				t.Errorf("%s: image %s: %s", f, ref, why)
			}
		}
		for _, m := range newTagLine.FindAllStringSubmatch(string(b), -1) {
			if m[1] == "latest" {
				t.Errorf("%s: newTag: latest", f)
			}
		}
	}
	if images < 4 {
		t.Errorf("found %d image references in deploy/; want at least the Deployment's, the CronJob's and the Dockerfile's two", images)
	}
	for _, c := range []struct{ ref, why string }{
		{"registry.example.org/earlyhelp:v1.0.0", ""},
		{"registry.example.org:5000/earlyhelp@sha256:0123", ""},
		{"registry.example.org:5000/earlyhelp", "no tag, which means :latest"},
		{"earlyhelp:latest", "the :latest tag"},
	} {
		if got := unpinned(c.ref); got != c.why {
			t.Errorf("unpinned(%q) = %q; want %q", c.ref, got, c.why)
		}
	}
}

// TestDeployCouncilConfigs: the config each council's pods are given (the
// regional example's rendered ConfigMaps; the overlays' earlyhelp.yaml
// without kubectl) loads, configures every source, and is that council's
// own: one config per council, each with its own name, none left as the
// base's example.
func TestDeployCouncilConfigs(t *testing.T) {
	root := boundaryTree(t)
	configs := map[string]string{} // where → config text
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		out, err := exec.Command(kubectl, "kustomize", filepath.Join(root, "deploy", "kubernetes", "regional")).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize regional: %v", err)
		}
		docs, err := decodeDocs(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range docs {
			if doc["kind"] != "ConfigMap" {
				continue
			}
			md, _ := doc["metadata"].(map[string]any)
			data, _ := doc["data"].(map[string]any)
			text, _ := data["earlyhelp.yaml"].(string)
			configs[fmt.Sprintf("ConfigMap %v/%v", md["namespace"], md["name"])] = text
		}
	} else {
		t.Log("kubectl is not on PATH: reading the overlays' earlyhelp.yaml instead of the rendered ConfigMaps")
		files, _ := filepath.Glob(filepath.Join(deployDir, "kubernetes", "overlays", "*", "earlyhelp.yaml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			configs[f] = string(b)
		}
	}
	if len(configs) != 3 {
		t.Fatalf("%d council configs; want the regional example's three", len(configs))
	}
	councils := map[string]string{}
	for where, text := range configs {
		cfg, err := config.Parse(filepath.Join(t.TempDir(), "earlyhelp.yaml"), []byte(text))
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		for _, s := range connectors.Names() {
			if _, ok := cfg.Sources[s]; !ok {
				t.Errorf("%s: source %s is not configured", where, s)
			}
		}
		if len(cfg.MissingSourcesAccepted) > 0 {
			t.Errorf("%s: accepts missing sources %v; a shipped example configures them all", where, cfg.MissingSourcesAccepted)
		}
		if cfg.Council == "Example Borough" {
			t.Errorf("%s: still the base's example council", where)
		}
		if other, ok := councils[cfg.Council]; ok {
			t.Errorf("%s and %s are both council %q", where, other, cfg.Council)
		}
		councils[cfg.Council] = where
	}
}
