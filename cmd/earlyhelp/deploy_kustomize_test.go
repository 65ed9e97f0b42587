package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// kustomization is the part of kustomization.yaml that decides names,
// namespaces, labels, mounts and images.
type kustomization struct {
	Namespace  string   `yaml:"namespace"`
	NamePrefix string   `yaml:"namePrefix"`
	NameSuffix string   `yaml:"nameSuffix"`
	Resources  []string `yaml:"resources"`
	Labels     []struct {
		Pairs            map[string]string `yaml:"pairs"`
		IncludeTemplates bool              `yaml:"includeTemplates"`
	} `yaml:"labels"`
	CommonLabels    map[string]string `yaml:"commonLabels"`
	SecretGenerator []struct {
		Name string `yaml:"name"`
	} `yaml:"secretGenerator"`
	Patches []struct {
		Path   string `yaml:"path"`
		Patch  string `yaml:"patch"`
		Target *struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"target"`
	} `yaml:"patches"`
	PatchesStrategicMerge []string `yaml:"patchesStrategicMerge"`
	Images                []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
		Digest  string `yaml:"digest"`
	} `yaml:"images"`
}

// kItem is one object as the reader below builds it.
type kItem struct {
	kind, name, namespace, council string
	pod                            *podTemplate // workloads only
}

// readKustomize is the boundary test's stand-in for kustomize where kubectl
// is absent. It applies what decides a pod's reach — resources and
// sub-kustomizations, secretGenerator, namespace, namePrefix/Suffix (and the
// renaming of references to the renamed objects), labels, images — and
// reads the Secrets, claims and images every patch names into its target's
// Pod template, whatever else the patch does. A patch can only add to what
// a pod is checked for, so this errs towards rejecting.
func readKustomize(dir string) ([]*kItem, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k kustomization
	if err := yaml.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var items []*kItem
	for _, r := range k.Resources {
		path := filepath.Join(dir, r)
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("%s: resource %s: %w", dir, r, err)
		}
		if st.IsDir() {
			sub, err := readKustomize(path)
			if err != nil {
				return nil, err
			}
			items = append(items, sub...)
			continue
		}
		fb, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		docs, err := decodeDocs(fb)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		items = append(items, deploymentItems(docs)...)
	}
	for _, g := range k.SecretGenerator {
		items = append(items, &kItem{kind: "Secret", name: g.Name})
	}
	// Patches name their target by kind and name, as the objects are
	// called before this kustomization's own prefix.
	target := func(kind, name string) []*kItem {
		var out []*kItem
		for _, it := range items {
			if it.pod != nil && (kind == "" || it.kind == kind) && (name == "" || it.name == name) {
				out = append(out, it)
			}
		}
		return out
	}
	patchFiles := append([]string(nil), k.PatchesStrategicMerge...)
	for _, p := range k.Patches {
		if p.Path != "" {
			patchFiles = append(patchFiles, p.Path)
			continue
		}
		var v any
		if err := yaml.Unmarshal([]byte(p.Patch), &v); err != nil {
			return nil, fmt.Errorf("%s: inline patch: %w", dir, err)
		}
		kind, name := "", ""
		if p.Target != nil {
			kind, name = p.Target.Kind, p.Target.Name
		}
		if m, ok := v.(map[string]any); ok && kind == "" {
			kind, _ = m["kind"].(string)
			md, _ := m["metadata"].(map[string]any)
			name, _ = md["name"].(string)
		}
		for _, it := range target(kind, name) {
			refsInPatch(v, it.pod)
		}
	}
	for _, f := range patchFiles {
		pb, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		docs, err := decodeDocs(pb)
		if err != nil {
			return nil, fmt.Errorf("%s: patch %s: %w", dir, f, err)
		}
		for _, doc := range docs {
			kind, _ := doc["kind"].(string)
			md, _ := doc["metadata"].(map[string]any)
			name, _ := md["name"].(string)
			for _, it := range target(kind, name) {
				refsIn(doc, it.pod)
			}
		}
	}

	// kustomize renames references only to objects it renames: those of
	// this kustomization and below.
	known := map[string]bool{}
	for _, it := range items {
		known[it.kind+"/"+it.name] = true
	}
	rename := func(kind string, names []string) {
		for i, n := range names {
			if known[kind+"/"+n] {
				names[i] = k.NamePrefix + n + k.NameSuffix
			}
		}
	}
	council, toTemplates := "", false
	for _, l := range k.Labels {
		if c, ok := l.Pairs[councilLabel]; ok {
			council, toTemplates = c, l.IncludeTemplates
		}
	}
	if c, ok := k.CommonLabels[councilLabel]; ok {
		council, toTemplates = c, true
	}
	for _, it := range items {
		if it.kind != "Namespace" {
			it.name = k.NamePrefix + it.name + k.NameSuffix
			if k.Namespace != "" {
				it.namespace = k.Namespace
			}
		}
		if council != "" {
			it.council = council
		}
		if it.pod == nil {
			continue
		}
		rename("Secret", it.pod.secrets)
		rename("PersistentVolumeClaim", it.pod.claims)
		it.pod.name, it.pod.namespace, it.pod.council = it.name, it.namespace, it.council
		if council != "" && toTemplates {
			it.pod.templateCouncil = council
		}
		for i, img := range it.pod.images {
			for _, im := range k.Images {
				if imageName(img) != im.Name {
					continue
				}
				base := im.Name
				if im.NewName != "" {
					base = im.NewName
				}
				switch {
				case im.Digest != "":
					img = base + "@" + im.Digest
				case im.NewTag != "":
					img = base + ":" + im.NewTag
				default:
					img = base + strings.TrimPrefix(img, im.Name)
				}
			}
			it.pod.images[i] = img
		}
	}
	return items, nil
}

// imageName is an image reference without its tag or digest.
func imageName(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// deploymentItems turns a resource file's documents into items.
func deploymentItems(docs []map[string]any) []*kItem {
	var out []*kItem
	for _, doc := range docs {
		kind, _ := doc["kind"].(string)
		md, _ := doc["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		it := &kItem{kind: kind, name: name, namespace: ns, council: labelOf(doc)}
		if tpl := podTemplateOf(doc); tpl != nil {
			it.pod = &podTemplate{kind: kind, templateCouncil: labelOf(tpl)}
			refsIn(tpl["spec"], it.pod)
		}
		out = append(out, it)
	}
	return out
}

// refsInPatch reads a JSON 6902 patch (a list of operations) or a
// strategic-merge patch given inline.
func refsInPatch(v any, p *podTemplate) {
	ops, ok := v.([]any)
	if !ok {
		refsIn(v, p)
		return
	}
	for _, o := range ops {
		op, _ := o.(map[string]any)
		path, _ := op["path"].(string)
		value := op["value"]
		if s, ok := value.(string); ok {
			switch {
			case strings.HasSuffix(path, "/secretName"), strings.HasSuffix(path, "/secretKeyRef/name"),
				strings.HasSuffix(path, "/secretRef/name"), strings.HasSuffix(path, "/secret/name"):
				p.secrets = append(p.secrets, s)
			case strings.HasSuffix(path, "/claimName"):
				p.claims = append(p.claims, s)
			case strings.HasSuffix(path, "/image"):
				p.images = append(p.images, s)
			}
			continue
		}
		refsIn(value, p)
	}
}

// parseOverlay reads dir's kustomization without kubectl.
func parseOverlay(dir string) (deployment, error) {
	items, err := readKustomize(dir)
	if err != nil {
		return deployment{}, err
	}
	var d deployment
	for _, it := range items {
		switch {
		case it.pod != nil:
			d.pods = append(d.pods, *it.pod)
		case it.kind == "Secret", it.kind == "PersistentVolumeClaim":
			d.objects = append(d.objects, k8sObject{it.kind, it.name, it.namespace, it.council})
		}
	}
	return d, nil
}
