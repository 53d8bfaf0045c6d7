package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/build"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// The Helm chart (deploy/helm/qovery-slack-bot), rendered with `helm template` in both modes and
// checked as deploy_test.go checks the kustomize variants: against the code (the variables it reads,
// its port and paths) and against those variants (the same container).

const helmChart = "deploy/helm/qovery-slack-bot"

// helmBinary finds helm: $QOVERY_BOT_TEST_HELM (.ci/run sets it once it installed helm, and then a
// missing binary fails rather than skips), the PATH, or where `go install` puts it.
func helmBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("QOVERY_BOT_TEST_HELM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("QOVERY_BOT_TEST_HELM=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(dir, "bin", "helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("helm not found: go install helm.sh/helm/v4/cmd/helm@v4.3.2 to run this test")
	return ""
}

// helmRelease is a rendered release: its objects by kind (the chart renders at most one of each).
type helmRelease map[string]*yaml.Node

// decode decodes the object of kind into v, and reports whether there is one.
func (r helmRelease) decode(t *testing.T, kind string, v any) bool {
	t.Helper()
	n, ok := r[kind]
	if !ok {
		return false
	}
	if err := n.Decode(v); err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return true
}

// raw is the object of kind as plain maps (nil when there is none).
func (r helmRelease) raw(t *testing.T, kind string) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, kind, &m)
	return m
}

func (r helmRelease) kinds() []string { return slices.Sorted(maps.Keys(r)) }

// helmTemplate renders the chart as release "bot" in namespace "bots" with the values set (key=value,
// taken as strings unless they are numbers or booleans); it returns helm's error output when helm fails.
func helmTemplate(t *testing.T, helm string, set ...string) (helmRelease, string, error) {
	t.Helper()
	args := []string{"template", "bot", helmChart, "--namespace", "bots"}
	for _, kv := range set {
		flag := "--set-string"
		if _, v, _ := strings.Cut(kv, "="); v == "true" || v == "false" {
			flag = "--set"
		} else if _, err := strconv.Atoi(v); err == nil {
			flag = "--set"
		}
		args = append(args, flag, kv)
	}
	cmd := exec.Command(helm, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, stderr.String(), err
	}
	release := helmRelease{}
	dec := yaml.NewDecoder(&stdout)
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template %v: the output does not parse: %v", set, err)
		}
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := n.Decode(&head); err != nil || head.Kind == "" {
			continue // an empty document
		}
		if _, dup := release[head.Kind]; dup {
			t.Errorf("helm template %v: two objects of kind %s", set, head.Kind)
		}
		release[head.Kind] = &n
	}
	return release, "", nil
}

// Values for a release that renders: an image, and tokens of the right shape (not real ones).
var (
	helmImage  = []string{"image.repository=registry.example.com/qovery-slack-bot", "image.tag=v1.2.3"}
	helmTokens = map[string]string{
		"SLACK_APP_TOKEN":  "xapp-1-A0TESTTEST-0-helmtest",
		"SLACK_BOT_TOKEN":  "xoxb-0-0-helmtest",
		"QOVERY_API_TOKEN": "qov_helmtest",
	}
	helmDatabaseURL = "postgres://qovery_bot:helmtest@db.example.internal:5432/qovery_bot?sslmode=require"
)

func helmValues(extra ...string) []string {
	return slices.Concat(helmImage, []string{
		"secret.slackAppToken=" + helmTokens["SLACK_APP_TOKEN"],
		"secret.slackBotToken=" + helmTokens["SLACK_BOT_TOKEN"],
		"secret.qoveryAPIToken=" + helmTokens["QOVERY_API_TOKEN"],
	}, extra)
}

func TestHelmChart(t *testing.T) {
	helm := helmBinary(t)
	type want struct {
		replicas     bool              // state in PostgreSQL
		secrets      map[string]string // the Secret each key is read from
		dbKey        string            // the key of the database URL in its Secret
		chartSecret  []string          // the keys of the chart's Secret (nil: no Secret)
		monitor      bool              // a ServiceMonitor rather than pod annotations
		namespaceSel map[string]string // the NetworkPolicy's namespace labels
	}
	monitoring := map[string]string{"kubernetes.io/metadata.name": "monitoring"}
	chartTokens := map[string]string{"SLACK_APP_TOKEN": "bot-qovery-slack-bot", "SLACK_BOT_TOKEN": "bot-qovery-slack-bot", "QOVERY_API_TOKEN": "bot-qovery-slack-bot"}
	for _, tc := range []struct {
		name string
		set  []string
		want want
	}{
		{
			name: "single replica on a volume",
			set:  helmValues(),
			want: want{secrets: chartTokens, chartSecret: kubeTokens, namespaceSel: monitoring},
		},
		{
			name: "replicas on PostgreSQL",
			set:  helmValues("database.url=" + helmDatabaseURL),
			want: want{
				replicas: true, dbKey: "QOVERY_BOT_DATABASE_URL", namespaceSel: monitoring,
				secrets:     map[string]string{"SLACK_APP_TOKEN": "bot-qovery-slack-bot", "SLACK_BOT_TOKEN": "bot-qovery-slack-bot", "QOVERY_API_TOKEN": "bot-qovery-slack-bot", "QOVERY_BOT_DATABASE_URL": "bot-qovery-slack-bot"},
				chartSecret: []string{"QOVERY_API_TOKEN", "QOVERY_BOT_DATABASE_URL", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"},
			},
		},
		{
			name: "replicas on PostgreSQL, secrets managed elsewhere",
			set: slices.Concat(helmImage, []string{"secret.existingSecret=bot-tokens", "database.existingSecret=bot-db",
				"database.existingSecretKey=url", "replicaCount=3"}),
			want: want{
				replicas: true, dbKey: "url", namespaceSel: monitoring,
				secrets: map[string]string{"SLACK_APP_TOKEN": "bot-tokens", "SLACK_BOT_TOKEN": "bot-tokens", "QOVERY_API_TOKEN": "bot-tokens", "QOVERY_BOT_DATABASE_URL": "bot-db"},
			},
		},
		{
			name: "ServiceMonitor, Prometheus elsewhere",
			set:  helmValues("metrics.serviceMonitor.enabled=true", "networkPolicy.metricsNamespaceSelector.matchLabels.team=observability"),
			want: want{secrets: chartTokens, chartSecret: kubeTokens, monitor: true,
				namespaceSel: map[string]string{"kubernetes.io/metadata.name": "monitoring", "team": "observability"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, stderr, err := helmTemplate(t, helm, tc.set...)
			if err != nil {
				t.Fatalf("helm template %v: %v\n%s", tc.set, err, stderr)
			}
			checkHelmRelease(t, r, tc.set, tc.want.replicas, tc.want.secrets, tc.want.dbKey, tc.want.chartSecret, tc.want.monitor, tc.want.namespaceSel)
		})
	}
}

// checkHelmRelease checks a rendered release; see TestHelmChart's want for the arguments.
func checkHelmRelease(t *testing.T, r helmRelease, set []string, replicas bool, secrets map[string]string, dbKey string,
	chartSecret []string, monitor bool, namespaceSel map[string]string) {
	t.Helper()
	wantKinds := []string{"ConfigMap", "Deployment", "NetworkPolicy", "Service"}
	if chartSecret != nil {
		wantKinds = append(wantKinds, "Secret")
	}
	if replicas {
		wantKinds = append(wantKinds, "PodDisruptionBudget")
	} else {
		wantKinds = append(wantKinds, "PersistentVolumeClaim")
	}
	if monitor {
		wantKinds = append(wantKinds, "ServiceMonitor")
	}
	slices.Sort(wantKinds)
	if got := r.kinds(); !slices.Equal(got, wantKinds) {
		t.Fatalf("objects %v; want %v", got, wantKinds)
	}
	var dep, cm, svc, secret, pvc, pdb kubeObject
	r.decode(t, "Deployment", &dep)
	r.decode(t, "ConfigMap", &cm)
	r.decode(t, "Service", &svc)
	hasSecret := r.decode(t, "Secret", &secret)
	hasPVC := r.decode(t, "PersistentVolumeClaim", &pvc)
	r.decode(t, "PodDisruptionBudget", &pdb)
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("deployment: %d containers; want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	labels := dep.Spec.Template.Metadata.Labels
	selects := func(m map[string]string) bool {
		for k, v := range m {
			if labels[k] != v {
				return false
			}
		}
		return len(m) > 0
	}
	if !selects(dep.Spec.Selector.MatchLabels) {
		t.Errorf("deployment: selector %v does not select its pods' labels %v", dep.Spec.Selector.MatchLabels, labels)
	}

	// Replicas, strategy and storage for the mode.
	n := 0
	if dep.Spec.Replicas != nil {
		n = *dep.Spec.Replicas
	}
	if replicas {
		ru := dep.Spec.Strategy.RollingUpdate
		if n < 2 || dep.Spec.Strategy.Type != "RollingUpdate" || ru == nil || !kubeZero(ru.MaxUnavailable) || ru.MaxSurge == nil || kubeZero(ru.MaxSurge) {
			t.Errorf("deployment: replicas %d, strategy %q %+v; want 2 or more, RollingUpdate with maxUnavailable 0 and a maxSurge", n, dep.Spec.Strategy.Type, ru)
		}
		if len(pod.Volumes) != 0 || len(c.VolumeMounts) != 0 || hasPVC {
			t.Errorf("deployment: volumes %+v, mounts %+v, claim %v; want none with PostgreSQL", pod.Volumes, c.VolumeMounts, hasPVC)
		}
		if v, ok := cm.Data["QOVERY_BOT_DATA_DIR"]; ok {
			t.Errorf("configmap: QOVERY_BOT_DATA_DIR = %q; no data directory is used with PostgreSQL", v)
		}
		if min, isInt := pdb.Spec.MinAvailable.(int); !isInt || min < 1 || min >= n || !selects(pdb.Spec.Selector.MatchLabels) {
			t.Errorf("poddisruptionbudget: minAvailable %v, selector %v; want 1 to %d, selecting the pods", pdb.Spec.MinAvailable, pdb.Spec.Selector.MatchLabels, n-1)
		}
	} else {
		if n != 1 || dep.Spec.Strategy.Type != "Recreate" {
			t.Errorf("deployment: replicas %d, strategy %q; want 1 and Recreate (one process per data file)", n, dep.Spec.Strategy.Type)
		}
		dataDir := cm.Data["QOVERY_BOT_DATA_DIR"]
		var mounted, claim string
		for _, m := range c.VolumeMounts {
			if m.MountPath == dataDir {
				mounted = m.Name
			}
		}
		for _, v := range pod.Volumes {
			if v.Name == mounted && v.PersistentVolumeClaim != nil {
				claim = v.PersistentVolumeClaim.ClaimName
			}
		}
		if dataDir == "" || claim == "" || claim != pvc.Metadata.Name || !slices.Equal(pvc.Spec.AccessModes, []string{"ReadWriteOnce"}) {
			t.Errorf("deployment: QOVERY_BOT_DATA_DIR %q mounted from claim %q; want the chart's ReadWriteOnce claim %q (%v)", dataDir, claim, pvc.Metadata.Name, pvc.Spec.AccessModes)
		}
	}

	// The secrets: each key by secretKeyRef from the Secret that holds it, never a value in the
	// manifest, never the whole Secret by envFrom, never in the ConfigMap.
	got := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("deployment: env %s is not from a Secret; settings belong in the ConfigMap", e.Name)
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		wantKey := e.Name
		if e.Name == "QOVERY_BOT_DATABASE_URL" {
			wantKey = dbKey
		}
		if ref.Key != wantKey {
			t.Errorf("deployment: %s from key %q; want %q", e.Name, ref.Key, wantKey)
		}
		got[e.Name] = ref.Name
	}
	if !maps.Equal(got, secrets) {
		t.Errorf("deployment: variables from Secrets %v; want %v", got, secrets)
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil || e.ConfigMapRef == nil || e.ConfigMapRef.Name != cm.Metadata.Name {
			t.Errorf("deployment: envFrom %+v; want the ConfigMap %s only", e, cm.Metadata.Name)
		}
	}
	if hasSecret {
		keys := slices.Sorted(maps.Keys(secret.StringData))
		if !slices.Equal(keys, chartSecret) || len(secret.Data) != 0 {
			t.Errorf("secret: keys %v (data %v); want stringData with %v", keys, secret.Data, chartSecret)
		}
		for k, v := range secret.StringData {
			if want := helmTokens[k]; k != "QOVERY_BOT_DATABASE_URL" && v != want {
				t.Errorf("secret: %s = %q; want the value set, %q", k, v, want)
			}
			if secrets[k] != secret.Metadata.Name {
				t.Errorf("secret: %s is in %s, but the pods read it from %q", k, secret.Metadata.Name, secrets[k])
			}
		}
	}
	known := configVariables(t)
	for k, v := range cm.Data {
		if !known[k] {
			t.Errorf("configmap: %s, which config.go does not read", k)
		}
		if _, isSecret := secrets[k]; isSecret {
			t.Errorf("configmap: holds %s, a secret", k)
		}
		for _, s := range append(slices.Collect(maps.Values(helmTokens)), helmDatabaseURL) {
			if strings.Contains(v, s) {
				t.Errorf("configmap: %s holds a secret value", k)
			}
		}
	}

	// The probes and the Service reach /healthz and /readyz where QOVERY_BOT_HTTP_ADDR listens.
	addr := cm.Data["QOVERY_BOT_HTTP_ADDR"]
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("configmap: QOVERY_BOT_HTTP_ADDR %q: %v", addr, err)
	}
	if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != port {
		t.Fatalf("deployment: ports %+v; want one, %s (QOVERY_BOT_HTTP_ADDR %q)", c.Ports, port, addr)
	}
	portName := c.Ports[0].Name
	for _, p := range []struct {
		name  string
		probe *kubeProbe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || (p.probe.HTTPGet.Port != portName && p.probe.HTTPGet.Port != port) {
			t.Errorf("deployment: %s probe %+v; want GET %s on %s", p.name, p.probe, p.path, portName)
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.TargetPort != portName && p.TargetPort != port {
			t.Errorf("service: target port %q; want %s", p.TargetPort, portName)
		}
	}

	// The same container and pod security as the kustomize variant of the mode: the chart's defaults
	// and the manifests do not drift apart.
	dir := kubeDir
	if replicas {
		dir = kubeReplicasDir
	}
	var kube map[string]any
	for _, docs := range readKubeDocs[map[string]any](t, dir) {
		for _, d := range docs {
			if d["kind"] == "Deployment" {
				kube = d
			}
		}
	}
	rawDep := r.raw(t, "Deployment")
	firstContainer := func(dep map[string]any) map[string]any {
		cs, _ := kubeDig(dep, "spec", "template", "spec", "containers").([]any)
		if len(cs) == 0 {
			return nil
		}
		c, _ := cs[0].(map[string]any)
		return c
	}
	hc, kc := firstContainer(rawDep), firstContainer(kube)
	for _, k := range []string{"name", "ports", "livenessProbe", "readinessProbe", "resources", "securityContext"} {
		if !reflect.DeepEqual(hc[k], kc[k]) {
			t.Errorf("deployment: container %s = %v; %s/deployment.yaml has %v", k, hc[k], dir, kc[k])
		}
	}
	for _, path := range [][]string{
		{"spec", "template", "spec", "securityContext"},
		{"spec", "template", "spec", "automountServiceAccountToken"},
		{"spec", "template", "spec", "terminationGracePeriodSeconds"},
		{"spec", "template", "spec", "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", "weight"},
	} {
		if h, k := kubeDig(rawDep, path...), kubeDig(kube, path...); !reflect.DeepEqual(h, k) {
			t.Errorf("deployment: %s = %v; %s/deployment.yaml has %v", strings.Join(path, "."), h, dir, k)
		}
	}
	if image, _ := hc["image"].(string); image != "registry.example.com/qovery-slack-bot:v1.2.3" {
		t.Errorf("deployment: image %q; want the repository and tag set", image)
	}

	// Scraped in one place: the pods' annotations, or the ServiceMonitor.
	podAnnotations, _ := kubeDig(rawDep, "spec", "template", "metadata", "annotations").(map[string]any)
	if ann := kubeDig(r.raw(t, "Service"), "metadata", "annotations"); ann != nil {
		t.Errorf("service: annotations %v; the scrape annotations belong on the pods only", ann)
	}
	if scrape := podAnnotations["prometheus.io/scrape"]; (scrape == "true") == monitor {
		t.Errorf("pod annotation prometheus.io/scrape = %v with a ServiceMonitor %v; want one way of scraping", scrape, monitor)
	}
	if monitor {
		sm := r.raw(t, "ServiceMonitor")
		svcLabels, _ := kubeDig(r.raw(t, "Service"), "metadata", "labels").(map[string]any)
		sel, _ := kubeDig(sm, "spec", "selector", "matchLabels").(map[string]any)
		for k, v := range sel {
			if svcLabels[k] != v {
				t.Errorf("servicemonitor: selector %v does not select the Service (labels %v)", sel, svcLabels)
			}
		}
		eps, _ := kubeDig(sm, "spec", "endpoints").([]any)
		if len(eps) != 1 || kubeDig(eps[0], "port") != "http" || kubeDig(eps[0], "path") != "/metrics" {
			t.Errorf("servicemonitor: endpoints %v; want /metrics on the port named http", eps)
		}
	} else if podAnnotations["prometheus.io/port"] != port || podAnnotations["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v; want /metrics on %s", podAnnotations, port)
	}

	var np networkPolicy
	r.decode(t, "NetworkPolicy", &np)
	dbPort := 0
	if replicas {
		dbPort = 5432
	}
	checkNetworkPolicy(t, fmt.Sprintf("helm template %v", set), np, labels, portName, c.Ports[0].ContainerPort, dbPort)
	sels := map[string]string{}
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.From {
			if p.NamespaceSelector != nil {
				maps.Copy(sels, p.NamespaceSelector.MatchLabels)
			}
		}
	}
	if !maps.Equal(sels, namespaceSel) {
		t.Errorf("networkpolicy: ingress from namespaces labelled %v; want %v", sels, namespaceSel)
	}
}

// The chart refuses, when rendered, values that would give a release that cannot work.
func TestHelmChartRefuses(t *testing.T) {
	helm := helmBinary(t)
	for _, tc := range []struct {
		name string
		set  []string
		want string // in helm's error
	}{
		{"no image", helmValues("image.repository="), "image.repository is required"},
		{"no tag", helmValues("image.tag="), "image.tag is required"},
		{"no tokens", helmImage, "secret.slackAppToken is required"},
		{"placeholder token", helmValues("secret.slackAppToken=REPLACE_ME_xapp_token"), `secret.slackAppToken holds the placeholder "REPLACE_ME"`},
		{"placeholder Qovery token", helmValues("secret.qoveryAPIToken=replace_me"), `secret.qoveryAPIToken holds the placeholder "REPLACE_ME"`},
		{"placeholder database", helmValues("database.url=postgres://qovery_bot:REPLACE_ME@postgres.example.internal:5432/qovery_bot"), `database.url holds the placeholder "REPLACE_ME"`},
		{"placeholder setting", helmValues("config.QOVERY_ORGANIZATION_ID=REPLACE_ME"), `config.QOVERY_ORGANIZATION_ID holds the placeholder`},
		{"placeholder bot token", helmValues("secret.slackBotToken=xoxb-your-token"), `secret.slackBotToken holds the placeholder "YOUR-TOKEN"`},
		{"placeholder in brackets", helmValues("secret.qoveryAPIToken=<qovery token>"), `secret.qoveryAPIToken holds the placeholder "<…>"`},
		{"bot token for app token", helmValues("secret.slackAppToken=xoxb-1"), "starting with xapp-"},
		{"not PostgreSQL", helmValues("database.url=mysql://db/bot"), "must be a PostgreSQL URL"},
		{"database twice", helmValues("database.url="+helmDatabaseURL, "database.existingSecret=db"), "both set"},
		{"token in the ConfigMap", helmValues("config.SLACK_BOT_TOKEN=xoxb-2"), "never goes into the ConfigMap"},
		{"database in the ConfigMap", helmValues("config.QOVERY_BOT_DATABASE_URL=" + helmDatabaseURL), "never goes into the ConfigMap"},
		{"too many replicas", helmValues("database.url="+helmDatabaseURL, "replicaCount=10"), "replicaCount 10"},
		{"budget blocks drains", helmValues("database.url="+helmDatabaseURL, "podDisruptionBudget.minAvailable=2"), "podDisruptionBudget.minAvailable 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, err := helmTemplate(t, helm, tc.set...)
			if err == nil {
				t.Fatalf("helm template %v rendered; want an error with %q", tc.set, tc.want)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("helm template %v: %s; want %q", tc.set, strings.TrimSpace(stderr), tc.want)
			}
			for _, s := range helmTokens {
				if strings.Contains(stderr, s) {
					t.Errorf("helm template %v: the error repeats a token: %s", tc.set, stderr)
				}
			}
		})
	}
}

// TestHelmPlaceholdersMatchConfig: the chart refuses at render time the placeholders the bot refuses
// at start-up, from the same list.
func TestHelmPlaceholdersMatchConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(helmChart, "templates", "_helpers.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`range list ((?:"[^"]*" ?)+) -}}`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatal("_helpers.tpl: no `range list \"…\"` of placeholders")
	}
	var words []string
	for _, q := range regexp.MustCompile(`"[^"]*"`).FindAllString(m[1], -1) {
		words = append(words, strings.Trim(q, `"`))
	}
	if !slices.Equal(words, placeholderWords()) {
		t.Errorf("_helpers.tpl refuses %q; placeholder.go refuses %q", words, placeholderWords())
	}
}
