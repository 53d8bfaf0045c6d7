package main

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

// The deployment files (Dockerfile, deploy/kubernetes, deploy/kubernetes/replicas) checked against
// the code: the variables it reads, the port and paths it serves, the data directory.

const (
	// kubeDir is one replica with its data file on a volume.
	kubeDir = "deploy/kubernetes"
	// kubeReplicasDir is several replicas sharing a PostgreSQL database (QOVERY_BOT_DATABASE_URL).
	kubeReplicasDir = "deploy/kubernetes/replicas"
)

// kubeObject is the part of a Kubernetes object these tests read.
type kubeObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	// Secret and ConfigMap.
	StringData map[string]string `yaml:"stringData"`
	Data       map[string]string `yaml:"data"`
	Spec       struct {
		// Deployment.
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type          string `yaml:"type"`
			RollingUpdate *struct {
				MaxUnavailable any `yaml:"maxUnavailable"` // a number or a percentage
				MaxSurge       any `yaml:"maxSurge"`
			} `yaml:"rollingUpdate"`
		} `yaml:"strategy"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec kubePodSpec `yaml:"spec"`
		} `yaml:"template"`
		// Deployment and PodDisruptionBudget (a Service's selector, a plain map, is not read).
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		// PodDisruptionBudget.
		MinAvailable any `yaml:"minAvailable"`
		// PersistentVolumeClaim.
		AccessModes []string `yaml:"accessModes"`
		// Service.
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
	// Kustomization.
	Resources []string `yaml:"resources"`
	Images    []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
		Digest  string `yaml:"digest"`
	} `yaml:"images"`
}

type kubePodSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Affinity struct {
		PodAntiAffinity struct {
			Preferred []struct {
				Weight          int `yaml:"weight"`
				PodAffinityTerm struct {
					TopologyKey   string `yaml:"topologyKey"`
					LabelSelector struct {
						MatchLabels map[string]string `yaml:"matchLabels"`
					} `yaml:"labelSelector"`
				} `yaml:"podAffinityTerm"`
			} `yaml:"preferredDuringSchedulingIgnoredDuringExecution"`
		} `yaml:"podAntiAffinity"`
	} `yaml:"affinity"`
	Containers []struct {
		Name    string `yaml:"name"`
		Image   string `yaml:"image"`
		EnvFrom []struct {
			SecretRef    *struct{ Name string } `yaml:"secretRef"`
			ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
		} `yaml:"envFrom"`
		Env []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				SecretKeyRef *struct {
					Name string `yaml:"name"`
					Key  string `yaml:"key"`
				} `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		LivenessProbe  *kubeProbe `yaml:"livenessProbe"`
		ReadinessProbe *kubeProbe `yaml:"readinessProbe"`
		Resources      struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
			Capabilities             struct {
				Drop []string `yaml:"drop"`
			} `yaml:"capabilities"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

type kubeProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"` // a name or a number
	} `yaml:"httpGet"`
}

// readKubeObjects decodes every YAML document of every file directly in dir (deploy/kubernetes does
// not reach into deploy/kubernetes/replicas), by file name.
func readKubeObjects(t *testing.T, dir string) map[string][]kubeObject {
	t.Helper()
	return readKubeDocs[kubeObject](t, dir)
}

// readKubeDocs decodes every YAML document of every file directly in dir into a T, by file name.
func readKubeDocs[T any](t *testing.T, dir string) map[string][]T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no YAML in %s: %v", dir, err)
	}
	objects := map[string][]T{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(f)
		for {
			var o T
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s does not parse: %v", file, err)
			}
			objects[filepath.Base(file)] = append(objects[filepath.Base(file)], o)
		}
		f.Close()
	}
	return objects
}

// kubeObjectsByKind reads dir as kubectl apply -k would take it: kustomization.yaml lists every other
// file, and each object has a kind, a name and no namespace, one object of each kind.
// checkSecretPlaceholders checks that a Secret holds exactly the keys want (sorted) in stringData,
// each with a placeholder, never a real secret.
func checkSecretPlaceholders(t *testing.T, file string, secret kubeObject, want []string) {
	t.Helper()
	var keys []string
	for k, v := range secret.StringData {
		keys = append(keys, k)
		if placeholder(v) == "" {
			t.Errorf("%s: %s = %q; want a placeholder such as REPLACE_ME, never a secret", file, k, v)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want) || len(secret.Data) != 0 {
		t.Errorf("%s keys = %v (data: %v); want stringData with exactly %v", file, keys, secret.Data, want)
	}
}

// TestShippedPlaceholdersRefused: every placeholder the Secrets of deploy/kubernetes ship, as values
// or in the `kubectl create secret` lines of their comments, is refused at start-up, naming the
// variable and never repeating the value.
func TestShippedPlaceholdersRefused(t *testing.T) {
	literal := regexp.MustCompile(`--from-literal=([A-Z_]+)=('[^']*'|\S+)`)
	for _, file := range []string{kubeDir + "/secret.yaml", kubeReplicasDir + "/secret.yaml"} {
		var shipped [][2]string
		for _, secret := range readKubeObjects(t, filepath.Dir(file))[filepath.Base(file)] {
			for k, v := range secret.StringData {
				shipped = append(shipped, [2]string{k, v})
			}
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(raw), -1) {
			shipped = append(shipped, [2]string{m[1], strings.Trim(m[2], "'")})
		}
		if len(shipped) < 6 {
			t.Fatalf("%s: found %d placeholders (%v); want the Secret's and the kubectl lines'", file, len(shipped), shipped)
		}
		for _, kv := range shipped {
			name, value := kv[0], kv[1]
			e := validEnv()
			e[name] = value
			_, err := loadConfig(env(e))
			if err == nil || !strings.Contains(err.Error(), name+": holds the placeholder") {
				t.Errorf("%s: loadConfig with %s=%q = %v; want it refused as a placeholder", file, name, value, err)
				continue
			}
			if strings.Contains(err.Error(), value) {
				t.Errorf("%s: the error %q repeats the value of %s", file, err, name)
			}
		}
	}
}

func kubeObjectsByKind(t *testing.T, dir string) map[string]kubeObject {
	t.Helper()
	files := readKubeObjects(t, dir)
	byKind := map[string]kubeObject{}
	var listed []string
	for file, objects := range files {
		for _, o := range objects {
			if o.Kind == "Kustomization" {
				listed = o.Resources
				continue
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s/%s: an object lacks apiVersion, kind or metadata.name: %+v", dir, file, o)
			}
			if o.Metadata.Namespace != "" {
				t.Errorf("%s/%s: %s %s sets namespace %q; the manifests are applied with -n", dir, file, o.Kind, o.Metadata.Name, o.Metadata.Namespace)
			}
			if _, dup := byKind[o.Kind]; dup {
				t.Errorf("%s: two objects of kind %s", dir, o.Kind)
			}
			byKind[o.Kind] = o
		}
	}
	var others []string
	for file := range files {
		if file != "kustomization.yaml" {
			others = append(others, file)
		}
	}
	slices.Sort(others)
	slices.Sort(listed)
	if !slices.Equal(listed, others) {
		t.Errorf("%s/kustomization.yaml lists %v; want every other file: %v", dir, listed, others)
	}
	return byKind
}

// configVariables returns the environment variables config.go reads: its string literals that look
// like one (upper case, with an underscore).
func configVariables(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)
	vars := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && name.MatchString(s) {
				vars[s] = true
			}
		}
		return true
	})
	return vars
}

// kubeTokens are the Secret's keys in both variants, sorted; the replicas variant adds the database.
var kubeTokens = []string{"QOVERY_API_TOKEN", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"}

func TestKubernetesManifests(t *testing.T) {
	byKind := kubeObjectsByKind(t, kubeDir)
	for _, kind := range []string{"Secret", "ConfigMap", "PersistentVolumeClaim", "Deployment"} {
		if _, ok := byKind[kind]; !ok {
			t.Fatalf("no %s in %s", kind, kubeDir)
		}
	}
	secret, cm, pvc, dep := byKind["Secret"], byKind["ConfigMap"], byKind["PersistentVolumeClaim"], byKind["Deployment"]

	// The tokens are in the Secret, placeholders only; everything else is in the ConfigMap, under the
	// names config.go reads.
	tokens := kubeTokens
	checkSecretPlaceholders(t, "secret.yaml", secret, tokens)
	known := configVariables(t)
	for _, tok := range tokens {
		if !known[tok] {
			t.Errorf("config.go does not read %s; configVariables found %v", tok, known)
		}
	}
	for k := range cm.Data {
		if !known[k] {
			t.Errorf("configmap.yaml sets %s, which config.go does not read", k)
		}
		if slices.Contains(tokens, k) {
			t.Errorf("configmap.yaml holds the token %s; it belongs in the Secret", k)
		}
	}

	if !slices.Equal(pvc.Spec.AccessModes, []string{"ReadWriteOnce"}) {
		t.Errorf("pvc.yaml access modes = %v; want ReadWriteOnce", pvc.Spec.AccessModes)
	}

	// One process per data file.
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Spec.Strategy.Type != "Recreate" {
		t.Errorf("deployment: replicas %v, strategy %q; want 1 and Recreate", dep.Spec.Replicas, dep.Spec.Strategy.Type)
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("deployment: %d containers; want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	var fromSecret, fromConfig string
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			fromSecret = e.SecretRef.Name
		}
		if e.ConfigMapRef != nil {
			fromConfig = e.ConfigMapRef.Name
		}
	}
	if fromSecret != secret.Metadata.Name || fromConfig != cm.Metadata.Name {
		t.Errorf("deployment envFrom = secret %q, configmap %q; want %q and %q", fromSecret, fromConfig, secret.Metadata.Name, cm.Metadata.Name)
	}
	setting := func(name string) string {
		for _, e := range c.Env {
			if e.Name == name {
				return e.Value
			}
		}
		return cm.Data[name]
	}

	// The probes ask /healthz and /readyz on the port QOVERY_BOT_HTTP_ADDR listens on.
	addr := setting("QOVERY_BOT_HTTP_ADDR")
	if addr == "" {
		addr = defaultHTTPAddr
	}
	_, wantPort, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("QOVERY_BOT_HTTP_ADDR %q: %v", addr, err)
	}
	containerPort := func(port string) string {
		for _, p := range c.Ports {
			if p.Name == port {
				return strconv.Itoa(p.ContainerPort)
			}
		}
		return port
	}
	for _, p := range []struct {
		name  string
		probe *kubeProbe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("deployment: no HTTP %s probe", p.name)
			continue
		}
		if got := p.probe.HTTPGet.Path; got != p.path {
			t.Errorf("deployment: %s probe path %q; want %q", p.name, got, p.path)
		}
		if got := containerPort(p.probe.HTTPGet.Port); got != wantPort {
			t.Errorf("deployment: %s probe port %q is %s; QOVERY_BOT_HTTP_ADDR %q listens on %s", p.name, p.probe.HTTPGet.Port, got, addr, wantPort)
		}
	}
	if svc, ok := byKind["Service"]; ok {
		for _, p := range svc.Spec.Ports {
			if got := containerPort(p.TargetPort); got != wantPort {
				t.Errorf("service: target port %q is %s; want %s", p.TargetPort, got, wantPort)
			}
		}
	}

	// The data directory is the PersistentVolumeClaim.
	dataDir := setting("QOVERY_BOT_DATA_DIR")
	var mounted string
	for _, m := range c.VolumeMounts {
		if m.MountPath == dataDir {
			mounted = m.Name
		}
	}
	var claim string
	for _, v := range pod.Volumes {
		if v.Name == mounted && v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if dataDir == "" || claim != pvc.Metadata.Name {
		t.Errorf("deployment: QOVERY_BOT_DATA_DIR %q is mounted from claim %q; want the PersistentVolumeClaim %q", dataDir, claim, pvc.Metadata.Name)
	}

	sc := c.SecurityContext
	if !pod.SecurityContext.RunAsNonRoot || !sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		!slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("deployment security context: pod runAsNonRoot %v, container %+v; want non-root, read-only root, no escalation, all capabilities dropped",
			pod.SecurityContext.RunAsNonRoot, sc)
	}
	// The bot gives work in flight 8 s after SIGTERM; Kubernetes must wait longer before SIGKILL.
	if pod.TerminationGracePeriodSeconds <= 8 {
		t.Errorf("deployment: terminationGracePeriodSeconds %d; want more than the bot's 8 s shutdown", pod.TerminationGracePeriodSeconds)
	}
	if c.Resources.Requests["memory"] == "" || c.Resources.Requests["cpu"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("deployment resources = %+v; want cpu and memory requests and a memory limit", c.Resources)
	}
}

// The replicas variant is the base for state in PostgreSQL: the same container, probes and security,
// several replicas rolled one at a time, the database URL from the Secret, no volume.
func TestKubernetesReplicas(t *testing.T) {
	base := kubeObjectsByKind(t, kubeDir)
	byKind := kubeObjectsByKind(t, kubeReplicasDir)
	for _, kind := range []string{"Secret", "ConfigMap", "Deployment"} {
		if _, ok := byKind[kind]; !ok {
			t.Fatalf("no %s in %s", kind, kubeReplicasDir)
		}
	}
	// The same names as the base, so that applying one variant over the other updates in place.
	for kind, o := range byKind {
		if b, ok := base[kind]; ok && b.Metadata.Name != o.Metadata.Name {
			t.Errorf("replicas: %s %q; the base names it %q", kind, o.Metadata.Name, b.Metadata.Name)
		}
	}
	if _, ok := byKind["PersistentVolumeClaim"]; ok {
		t.Errorf("replicas: a PersistentVolumeClaim; the state is in PostgreSQL")
	}
	secret, cm, dep := byKind["Secret"], byKind["ConfigMap"], byKind["Deployment"]
	known := configVariables(t)

	// The Secret: the base's tokens and the database URL, placeholders only.
	const dbURL = "QOVERY_BOT_DATABASE_URL"
	checkSecretPlaceholders(t, "replicas secret.yaml", secret, slices.Sorted(slices.Values(append(slices.Clone(kubeTokens), dbURL))))
	if u, err := url.Parse(secret.StringData[dbURL]); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		t.Errorf("replicas secret.yaml: %s = %q is not a postgres:// URL (%v)", dbURL, secret.StringData[dbURL], err)
	}

	// The ConfigMap: the base's settings with the base's values, but the data directory.
	const dataDir = "QOVERY_BOT_DATA_DIR"
	for k, v := range base["ConfigMap"].Data {
		got, ok := cm.Data[k]
		switch {
		case k == dataDir && ok:
			t.Errorf("replicas configmap.yaml sets %s; no data directory is used with PostgreSQL", k)
		case k != dataDir && (!ok || got != v):
			t.Errorf("replicas configmap.yaml %s = %q (set: %v); want the base's %q", k, got, ok, v)
		}
	}
	if v, ok := cm.Data["QOVERY_BOT_LEASE_TIMEOUT"]; ok {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			t.Errorf("replicas configmap.yaml QOVERY_BOT_LEASE_TIMEOUT = %q; want a positive duration such as 15s", v)
		}
	}

	// Two replicas, rolled one at a time with one always serving.
	replicas := 0 // unset
	if dep.Spec.Replicas != nil {
		replicas = *dep.Spec.Replicas
	}
	if replicas != 2 {
		t.Errorf("replicas deployment: replicas %d (0: unset); want 2", replicas)
	}
	ru := dep.Spec.Strategy.RollingUpdate
	if dep.Spec.Strategy.Type != "RollingUpdate" || ru == nil || !kubeZero(ru.MaxUnavailable) || ru.MaxSurge == nil || kubeZero(ru.MaxSurge) {
		t.Errorf("replicas deployment: strategy %q, rollingUpdate %+v; want RollingUpdate with maxUnavailable 0 and a maxSurge",
			dep.Spec.Strategy.Type, ru)
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("replicas deployment: %d containers; want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(pod.Volumes) != 0 || len(c.VolumeMounts) != 0 {
		t.Errorf("replicas deployment: volumes %+v, mounts %+v; want none", pod.Volumes, c.VolumeMounts)
	}
	if pod.TerminationGracePeriodSeconds <= 8 {
		t.Errorf("replicas deployment: terminationGracePeriodSeconds %d; want more than the bot's 8 s shutdown", pod.TerminationGracePeriodSeconds)
	}
	labels := dep.Spec.Template.Metadata.Labels
	selects := func(m map[string]string) bool {
		for k, v := range m {
			if labels[k] != v {
				return false
			}
		}
		return len(m) > 0
	}
	spread := false
	for _, p := range pod.Affinity.PodAntiAffinity.Preferred {
		term := p.PodAffinityTerm
		spread = spread || (p.Weight > 0 && term.TopologyKey == "kubernetes.io/hostname" && selects(term.LabelSelector.MatchLabels))
	}
	if !spread {
		t.Errorf("replicas deployment: affinity %+v; want a preferred podAntiAffinity on kubernetes.io/hostname selecting the bot's pods", pod.Affinity)
	}
	if pdb, ok := byKind["PodDisruptionBudget"]; ok {
		if n, isInt := pdb.Spec.MinAvailable.(int); !isInt || n < 1 || n >= replicas || !selects(pdb.Spec.Selector.MatchLabels) {
			t.Errorf("replicas poddisruptionbudget: minAvailable %v, selector %v; want at least 1, fewer than the replicas, selecting the bot's pods",
				pdb.Spec.MinAvailable, pdb.Spec.Selector.MatchLabels)
		}
	}

	// The environment: the ConfigMap whole, the Secret's keys one by one, each a variable the
	// program reads; the database URL from the Secret.
	set := map[string]bool{}
	for _, e := range c.EnvFrom {
		switch {
		case e.ConfigMapRef != nil && e.ConfigMapRef.Name == cm.Metadata.Name:
			for k := range cm.Data {
				set[k] = true
			}
		case e.SecretRef != nil && e.SecretRef.Name == secret.Metadata.Name:
			for k := range secret.StringData {
				set[k] = true
			}
		default:
			t.Errorf("replicas deployment: envFrom %+v names neither %s nor %s", e, cm.Metadata.Name, secret.Metadata.Name)
		}
	}
	fromSecret := map[string]bool{}
	for _, e := range c.Env {
		set[e.Name] = true
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if _, ok := secret.StringData[ref.Key]; ref.Name != secret.Metadata.Name || !ok || ref.Key != e.Name {
			t.Errorf("replicas deployment: %s from secret %q key %q; want the key of that name in %s", e.Name, ref.Name, ref.Key, secret.Metadata.Name)
			continue
		}
		fromSecret[e.Name] = true
	}
	if !fromSecret[dbURL] {
		t.Errorf("replicas deployment: %s is not a secretKeyRef into %s", dbURL, secret.Metadata.Name)
	}
	for k := range secret.StringData {
		if !set[k] {
			t.Errorf("replicas deployment: the Secret's %s is not passed to the container", k)
		}
	}
	for k := range set {
		if !known[k] {
			t.Errorf("replicas deployment sets %s, which config.go does not read", k)
		}
	}
	if set[dataDir] {
		t.Errorf("replicas deployment sets %s; no data directory is used with PostgreSQL", dataDir)
	}

	// Otherwise the base's pod: image, ports, probes, resources, security (but fsGroup, which is for
	// the volume), and the same Service.
	raw := func(dir string) map[string]map[string]any {
		byKind := map[string]map[string]any{}
		for _, docs := range readKubeDocs[map[string]any](t, dir) {
			for _, d := range docs {
				if kind, _ := d["kind"].(string); kind != "" {
					byKind[kind] = d
				}
			}
		}
		return byKind
	}
	rawBase, rawVariant := raw(kubeDir), raw(kubeReplicasDir)
	container := func(dep map[string]any) map[string]any {
		cs, _ := kubeDig(dep, "spec", "template", "spec", "containers").([]any)
		if len(cs) == 0 {
			return nil
		}
		c, _ := cs[0].(map[string]any)
		return c
	}
	bc, vc := container(rawBase["Deployment"]), container(rawVariant["Deployment"])
	for _, k := range []string{"name", "image", "ports", "livenessProbe", "readinessProbe", "resources", "securityContext"} {
		if !reflect.DeepEqual(bc[k], vc[k]) {
			t.Errorf("replicas deployment: container %s = %v; want the base's %v", k, vc[k], bc[k])
		}
	}
	podSC := func(dep map[string]any) map[string]any {
		sc, _ := kubeDig(dep, "spec", "template", "spec", "securityContext").(map[string]any)
		sc = maps.Clone(sc)
		delete(sc, "fsGroup")
		return sc
	}
	for _, path := range [][]string{
		{"spec", "selector"}, {"spec", "template", "metadata"},
		{"spec", "template", "spec", "automountServiceAccountToken"},
	} {
		if b, v := kubeDig(rawBase["Deployment"], path...), kubeDig(rawVariant["Deployment"], path...); !reflect.DeepEqual(b, v) {
			t.Errorf("replicas deployment: %s = %v; want the base's %v", strings.Join(path, "."), v, b)
		}
	}
	if b, v := podSC(rawBase["Deployment"]), podSC(rawVariant["Deployment"]); len(v) == 0 || !reflect.DeepEqual(b, v) {
		t.Errorf("replicas deployment: pod securityContext %v; want the base's %v (fsGroup aside)", v, b)
	}
	if b, v := kubeDig(rawBase["Service"], "spec"), kubeDig(rawVariant["Service"], "spec"); !reflect.DeepEqual(b, v) {
		t.Errorf("replicas service: spec %v; want the base's %v", v, b)
	}
}

// kubeZero reports whether an int-or-percentage field is 0 or 0%.
func kubeZero(v any) bool {
	switch v := v.(type) {
	case int:
		return v == 0
	case string:
		return v == "0" || v == "0%"
	}
	return false
}

// kubeDig follows keys into nested YAML maps; nil where one is missing.
func kubeDig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestKustomizeImage: both variants name the image through kustomization.yaml's images entry, whose
// placeholder REGISTRY/qovery-slack-bot:TAG names no registry anyone has: an apply before it is set
// fails to pull that name, and nothing else gets pulled (no image of the bot is published, so a bare
// qovery-slack-bot:latest went to Docker Hub).
func TestKustomizeImage(t *testing.T) {
	kubectl, _ := exec.LookPath("kubectl")
	for _, dir := range []string{kubeDir, kubeReplicasDir} {
		files := readKubeObjects(t, dir)
		var images []string
		for _, o := range files["deployment.yaml"] {
			for _, c := range o.Spec.Template.Spec.Containers {
				images = append(images, c.Image)
			}
		}
		if !slices.Equal(images, []string{"qovery-slack-bot"}) {
			t.Errorf("%s/deployment.yaml images = %q; want the one container's image named qovery-slack-bot, for kustomization.yaml to replace", dir, images)
		}
		k := files["kustomization.yaml"]
		if len(k) != 1 || len(k[0].Images) != 1 {
			t.Errorf("%s/kustomization.yaml: want one document with one images entry, naming the image to deploy", dir)
			continue
		}
		img := k[0].Images[0]
		if img.Name != "qovery-slack-bot" || img.NewName != "REGISTRY/qovery-slack-bot" || img.NewTag != "TAG" || img.Digest != "" {
			t.Errorf("%s/kustomization.yaml images = %+v; want qovery-slack-bot replaced by the placeholder REGISTRY/qovery-slack-bot:TAG", dir, img)
		}
		if kubectl == "" {
			continue
		}
		out, err := exec.Command(kubectl, "kustomize", dir).Output()
		if err != nil {
			t.Errorf("kubectl kustomize %s: %v", dir, err)
		} else if got := strings.Count(string(out), "image: REGISTRY/qovery-slack-bot:TAG"); got != 1 || strings.Count(string(out), "image:") != 1 {
			t.Errorf("kubectl kustomize %s renders the image %d times as REGISTRY/qovery-slack-bot:TAG; want its only image", dir, got)
		}
	}
}

// TestDockerignoreKeepsTrackedFiles: .dockerignore leaves out no file Git tracks. The image's build
// records the revision from .git, and a tracked file missing from the build context would make it
// record the tree as modified: an image built from a clean commit would report +dirty.
func TestDockerignoreKeepsTrackedFiles(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil || len(out) == 0 {
		t.Skipf("git ls-files: %v; the test needs the Git checkout", err)
	}
	tracked := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	raw, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		pattern := strings.TrimSpace(line)
		if pattern == "" || strings.HasPrefix(pattern, "#") {
			continue
		}
		// Docker matches each pattern, made relative to the context's root, against a path and
		// every directory above it. This test knows no more of the syntax than the file uses.
		if strings.HasPrefix(pattern, "!") || strings.Contains(pattern, "**") {
			t.Fatalf(".dockerignore: %q uses syntax this test does not check; teach it", pattern)
		}
		pattern = strings.TrimPrefix(filepath.Clean(pattern), "/")
		var dropped []string
		for _, file := range tracked {
			for p := file; p != "."; p = filepath.Dir(p) {
				if ok, err := filepath.Match(pattern, p); err != nil {
					t.Fatalf(".dockerignore: bad pattern %q: %v", pattern, err)
				} else if ok {
					dropped = append(dropped, file)
					break
				}
			}
		}
		if len(dropped) > 0 {
			t.Errorf(".dockerignore: %q leaves out %d files Git tracks, such as %s: images would report +dirty", line, len(dropped), dropped[0])
		}
	}
}

// The Dockerfile builds with the Go of go.mod and runs the binary as the Kubernetes manifests expect.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(mod))
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	for _, want := range []string{
		"FROM golang:" + goLine[1] + " AS build",
		"CGO_ENABLED=0 go build -trimpath",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"USER 65532:65532",
		"QOVERY_BOT_DATA_DIR=/data",
		`VOLUME ["/data"]`,
		"QOVERY_BOT_HTTP_ADDR=:8080",
		"EXPOSE 8080",
		`CMD ["/qovery-slack-bot", "healthcheck"]`,
		`ENTRYPOINT ["/qovery-slack-bot"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// The ports and the data directory agree with the Kubernetes manifests.
	files := readKubeObjects(t, kubeDir)
	for _, o := range files["configmap.yaml"] {
		if got := o.Data["QOVERY_BOT_HTTP_ADDR"]; got != ":8080" {
			t.Errorf("configmap.yaml QOVERY_BOT_HTTP_ADDR = %q; the image exposes :8080", got)
		}
		if got := o.Data["QOVERY_BOT_DATA_DIR"]; got != "/data" {
			t.Errorf("configmap.yaml QOVERY_BOT_DATA_DIR = %q; the image's volume is /data", got)
		}
	}
	// The user the manifests run as is the image's.
	if b, err := os.ReadFile(filepath.Join(kubeDir, "deployment.yaml")); err != nil || !strings.Contains(string(b), "runAsUser: 65532") {
		t.Errorf("deployment.yaml does not run as the image's user 65532 (%v)", err)
	}
}
