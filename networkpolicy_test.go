package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
)

// The NetworkPolicy of each way to deploy (both kustomize variants here, the Helm chart in
// helm_test.go): the bot dials out to DNS, HTTPS and, with PostgreSQL, the database, and takes in
// only scrapes of its health/metrics port.

// networkPolicy is the part of a NetworkPolicy these tests read.
type networkPolicy struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		PodSelector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"podSelector"`
		PolicyTypes []string            `yaml:"policyTypes"`
		Ingress     []networkPolicyRule `yaml:"ingress"`
		Egress      []networkPolicyRule `yaml:"egress"`
	} `yaml:"spec"`
}

type networkPolicyRule struct {
	From  []networkPolicyPeer `yaml:"from"`
	To    []networkPolicyPeer `yaml:"to"`
	Ports []struct {
		Protocol string `yaml:"protocol"`
		Port     any    `yaml:"port"` // a number or a container port's name
	} `yaml:"ports"`
}

type networkPolicyPeer struct {
	PodSelector       *labelSelector `yaml:"podSelector"`
	NamespaceSelector *labelSelector `yaml:"namespaceSelector"`
	IPBlock           *struct {
		CIDR string `yaml:"cidr"`
	} `yaml:"ipBlock"`
}

type labelSelector struct {
	MatchLabels      map[string]string `yaml:"matchLabels"`
	MatchExpressions []any             `yaml:"matchExpressions"`
}

// checkNetworkPolicy checks np against the pods it must govern (their labels), the port their
// health/metrics endpoints listen on (its container port name and number) and the database port
// they reach (0: none, the data file is on a volume).
func checkNetworkPolicy(t *testing.T, where string, np networkPolicy, podLabels map[string]string, portName string, port, dbPort int) {
	t.Helper()
	sel := np.Spec.PodSelector.MatchLabels
	if len(sel) == 0 {
		t.Errorf("%s: the NetworkPolicy selects every pod of the namespace; want the bot's (%v)", where, podLabels)
	}
	for k, v := range sel {
		if podLabels[k] != v {
			t.Errorf("%s: the NetworkPolicy selects %s=%s, which the bot's pods (%v) lack", where, k, v, podLabels)
		}
	}
	if types := slices.Sorted(slices.Values(np.Spec.PolicyTypes)); !slices.Equal(types, []string{"Egress", "Ingress"}) {
		t.Errorf("%s: NetworkPolicy policyTypes %v; want Ingress and Egress, so that both directions are closed but for the rules", where, np.Spec.PolicyTypes)
	}

	// Ingress: the health/metrics port only, from selected peers only.
	if len(np.Spec.Ingress) == 0 {
		t.Errorf("%s: no ingress rule; Prometheus could not scrape /metrics", where)
	}
	for i, r := range np.Spec.Ingress {
		if len(r.From) == 0 {
			t.Errorf("%s: ingress rule %d admits any source; want this namespace's pods and the monitoring namespace", where, i)
		}
		for _, p := range r.From {
			if p.IPBlock != nil || (p.PodSelector == nil && p.NamespaceSelector == nil) {
				t.Errorf("%s: ingress rule %d admits %+v; want label selectors only", where, i, p)
			}
		}
		if len(r.Ports) == 0 {
			t.Errorf("%s: ingress rule %d admits every port; want only %s (%d)", where, i, portName, port)
		}
		for _, p := range r.Ports {
			if got := fmt.Sprint(p.Port); (got != portName && got != strconv.Itoa(port)) || (p.Protocol != "" && p.Protocol != "TCP") {
				t.Errorf("%s: ingress rule %d admits %s/%v; want only TCP %s (%d)", where, i, p.Protocol, p.Port, portName, port)
			}
		}
	}
	sameNamespace, otherNamespace := false, false
	for _, r := range np.Spec.Ingress {
		for _, p := range r.From {
			switch {
			case p.NamespaceSelector == nil && p.PodSelector != nil:
				sameNamespace = true
			case p.NamespaceSelector != nil && (len(p.NamespaceSelector.MatchLabels) > 0 || len(p.NamespaceSelector.MatchExpressions) > 0):
				otherNamespace = true
			case p.NamespaceSelector != nil:
				t.Errorf("%s: ingress from every namespace (an empty namespaceSelector); want a monitoring namespace by label", where)
			}
		}
	}
	if !sameNamespace || !otherNamespace {
		t.Errorf("%s: ingress from this namespace %v, from a namespace by label %v; want both", where, sameNamespace, otherNamespace)
	}

	// Egress: the listed ports, each to any address (DNS, HTTPS, the database), and nothing else.
	want := map[string]bool{"UDP/53": true, "TCP/53": true, "TCP/443": true}
	if dbPort != 0 {
		want["TCP/"+strconv.Itoa(dbPort)] = true
	}
	got := map[string]bool{}
	for i, r := range np.Spec.Egress {
		if len(r.Ports) == 0 {
			t.Errorf("%s: egress rule %d allows every port; want only %v", where, i, slices.Sorted(maps.Keys(want)))
		}
		for _, p := range r.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = "TCP"
			}
			got[proto+"/"+fmt.Sprint(p.Port)] = true
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s: egress to %v; want exactly %v", where, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

func TestKubernetesNetworkPolicy(t *testing.T) {
	for _, tc := range []struct {
		dir    string
		dbPort int
	}{
		{kubeDir, 0},
		{kubeReplicasDir, 5432},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			byKind := kubeObjectsByKind(t, tc.dir)
			dep, ok := byKind["Deployment"]
			if !ok {
				t.Fatalf("no Deployment in %s", tc.dir)
			}
			var np *networkPolicy
			for _, docs := range readKubeDocs[networkPolicy](t, tc.dir) {
				for _, d := range docs {
					if d.Kind == "NetworkPolicy" {
						np = &d
					}
				}
			}
			if np == nil {
				t.Fatalf("no NetworkPolicy in %s", tc.dir)
			}
			c := dep.Spec.Template.Spec.Containers[0]
			if len(c.Ports) != 1 {
				t.Fatalf("%s deployment: ports %+v; want the one health/metrics port", tc.dir, c.Ports)
			}
			checkNetworkPolicy(t, tc.dir, *np, dep.Spec.Template.Metadata.Labels, c.Ports[0].Name, c.Ports[0].ContainerPort, tc.dbPort)
		})
	}
}
