package main

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// The deployment files (Dockerfile, deploy/kubernetes) checked against the code: the variables it
// reads, the port and paths it serves, the data directory.

const kubeDir = "deploy/kubernetes"

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
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Spec kubePodSpec `yaml:"spec"`
		} `yaml:"template"`
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
}

type kubePodSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Containers []struct {
		Name    string `yaml:"name"`
		EnvFrom []struct {
			SecretRef    *struct{ Name string } `yaml:"secretRef"`
			ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
		} `yaml:"envFrom"`
		Env []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
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

// readKubeObjects decodes every YAML document of every file in deploy/kubernetes, by file name.
func readKubeObjects(t *testing.T) map[string][]kubeObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(kubeDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no YAML in %s: %v", kubeDir, err)
	}
	objects := map[string][]kubeObject{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(f)
		for {
			var o kubeObject
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

func TestKubernetesManifests(t *testing.T) {
	files := readKubeObjects(t)
	byKind := map[string]kubeObject{}
	var listed []string
	for file, objects := range files {
		for _, o := range objects {
			if o.Kind == "Kustomization" {
				listed = o.Resources
				continue
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: an object lacks apiVersion, kind or metadata.name: %+v", file, o)
			}
			if o.Metadata.Namespace != "" {
				t.Errorf("%s: %s %s sets namespace %q; the manifests are applied with -n", file, o.Kind, o.Metadata.Name, o.Metadata.Namespace)
			}
			if _, dup := byKind[o.Kind]; dup {
				t.Errorf("two objects of kind %s", o.Kind)
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
		t.Errorf("kustomization.yaml lists %v; want every other file: %v", listed, others)
	}
	for _, kind := range []string{"Secret", "ConfigMap", "PersistentVolumeClaim", "Deployment"} {
		if _, ok := byKind[kind]; !ok {
			t.Fatalf("no %s in %s", kind, kubeDir)
		}
	}
	secret, cm, pvc, dep := byKind["Secret"], byKind["ConfigMap"], byKind["PersistentVolumeClaim"], byKind["Deployment"]

	// The tokens are in the Secret, placeholders only; everything else is in the ConfigMap, under the
	// names config.go reads.
	tokens := []string{"QOVERY_API_TOKEN", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"}
	var keys []string
	for k, v := range secret.StringData {
		keys = append(keys, k)
		if !strings.HasPrefix(v, "REPLACE_ME") {
			t.Errorf("secret.yaml: %s = %q; want a REPLACE_ME placeholder, never a token", k, v)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, tokens) || len(secret.Data) != 0 {
		t.Errorf("secret.yaml keys = %v (data: %v); want stringData with exactly %v", keys, secret.Data, tokens)
	}
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
	files := readKubeObjects(t)
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
