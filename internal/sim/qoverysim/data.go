package qoverysim

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// ClusterSpec describes a cluster to add with [Server.AddCluster]. Zero
// fields take the documented defaults.
type ClusterSpec struct {
	// ID is the cluster's id; zero means a random one.
	ID uuid.UUID
	// Name defaults to "cluster-" and the first characters of the id.
	Name string
	// Region defaults to "eu-west-3".
	Region string
	// CloudProvider defaults to "AWS". The spec allows AWS, SCW, GCP, DO,
	// AZURE, OVH, CIVO, HETZNER, ORACLE, IBM and ON_PREMISE.
	CloudProvider string
	Production    bool
	// Status is the initial state; it defaults to DEPLOYED.
	Status qovery.State
	// Lock, if not nil, locks the cluster: stop answers 409 and deploy
	// 400. A zero ClusterID or LockedAt is filled in.
	Lock *qovery.ClusterLock
	// LastExecutionID is the id of the cluster's last operation, if any.
	LastExecutionID string
	// StopScript is the sequence of states after STOP_QUEUED that status
	// reads walk through once a stop is accepted. It defaults to
	// [STOPPING, STOPPED]. Repeat a state to hold it for more reads.
	StopScript []qovery.State
	// DeployScript is the same for a deploy, after DEPLOYMENT_QUEUED. It
	// defaults to [DEPLOYING, DEPLOYED].
	DeployScript []qovery.State
	// ReadsPerStep is how many status reads see each scripted state before
	// the next one; it defaults to 1.
	ReadsPerStep int
	// Reason is the status's reason; it defaults to UNSPECIFIED. Set
	// MAINTENANCE to mimic Qovery updating the cluster itself.
	Reason qovery.DeploymentReason
	// Environments are what runs on the cluster
	// (GET /cluster/{clusterId}/environments).
	Environments []qovery.ClusterEnvironment
	// Cost is the cluster's monthly cost range; nil answers 404 on
	// currentCost. CostAsTotal answers it in the spec's required shape
	// (total, total_in_cents) instead of the documented range.
	Cost        *qovery.CostRange
	CostAsTotal bool
	// Logs are the cluster's log lines (GET …/cluster/{clusterId}/logs).
	Logs []qovery.ClusterLog
}

// organization is an organization as stored by the fake.
type organization struct {
	id        uuid.UUID
	name      string
	createdAt time.Time
}

func (o *organization) api() qovery.Organization {
	return qovery.Organization{ID: o.id, CreatedAt: o.createdAt, Name: o.name, Plan: "TEAM_2025"}
}

// cluster is a cluster as stored by the fake, with its scripted state
// machine: state is what reads see now, pending what they will see next.
type cluster struct {
	id, orgID      uuid.UUID
	name, region   string
	provider       string
	production     bool
	createdAt      time.Time
	state          qovery.State
	pending        []qovery.State
	readsLeft      int
	readsPerStep   int
	stopScript     []qovery.State
	deployScript   []qovery.State
	lock           *qovery.ClusterLock
	lastExecution  string
	lastDeployment *time.Time
	everDeployed   bool
	reason         qovery.DeploymentReason
	environments   []qovery.ClusterEnvironment
	cost           *qovery.CostRange
	costAsTotal    bool
	logs           []qovery.ClusterLog
}

// AddOrganization adds an organization named name and returns its id.
func (s *Server) AddOrganization(name string) uuid.UUID {
	id := uuid.New()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addOrganization(id, name, s.now())
	return id
}

func (s *Server) addOrganization(id uuid.UUID, name string, created time.Time) {
	if s.org(id) != nil {
		panic(fmt.Sprintf("qoverysim: organization %s added twice", id))
	}
	s.orgs = append(s.orgs, &organization{id: id, name: name, createdAt: created.UTC().Truncate(time.Second)})
}

// AddCluster adds a cluster to the organization orgID and returns the
// cluster's id. It panics if the organization is unknown or the id taken.
func (s *Server) AddCluster(orgID uuid.UUID, spec ClusterSpec) uuid.UUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addCluster(orgID, spec, s.now())
}

func (s *Server) addCluster(orgID uuid.UUID, spec ClusterSpec, created time.Time) uuid.UUID {
	if s.org(orgID) == nil {
		panic(fmt.Sprintf("qoverysim: AddCluster: unknown organization %s", orgID))
	}
	id := spec.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	if s.cluster(id) != nil {
		panic(fmt.Sprintf("qoverysim: cluster %s added twice", id))
	}
	c := &cluster{
		id:            id,
		orgID:         orgID,
		name:          cmp.Or(spec.Name, "cluster-"+id.String()[:8]),
		region:        cmp.Or(spec.Region, "eu-west-3"),
		provider:      cmp.Or(spec.CloudProvider, "AWS"),
		production:    spec.Production,
		createdAt:     created.UTC().Truncate(time.Second),
		state:         cmp.Or(spec.Status, qovery.StateDeployed),
		readsPerStep:  max(spec.ReadsPerStep, 1),
		stopScript:    scriptOr(spec.StopScript, qovery.StateStopping, qovery.StateStopped),
		deployScript:  scriptOr(spec.DeployScript, qovery.StateDeploying, qovery.StateDeployed),
		lastExecution: spec.LastExecutionID,
		reason:        cmp.Or(spec.Reason, qovery.ReasonUnspecified),
		environments:  slices.Clone(spec.Environments),
		cost:          spec.Cost,
		costAsTotal:   spec.CostAsTotal,
		logs:          slices.Clone(spec.Logs),
	}
	c.everDeployed = c.state != qovery.StateReady
	c.setLock(spec.Lock, s.now())
	s.clusters = append(s.clusters, c)
	return id
}

func scriptOr(script []qovery.State, def ...qovery.State) []qovery.State {
	if len(script) == 0 {
		return def
	}
	return slices.Clone(script)
}

// SetStatus forces the state of a cluster and cancels any scripted
// progression, as if an operation had just settled.
func (s *Server) SetStatus(clusterID uuid.UUID, state qovery.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCluster("SetStatus", clusterID)
	c.state = state
	c.pending = nil
	if state != qovery.StateReady {
		c.everDeployed = true
	}
}

// Status returns the current state of a cluster without counting as a read,
// so it does not advance the script.
func (s *Server) Status(clusterID uuid.UUID) qovery.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustCluster("Status", clusterID).state
}

// SetStopScript replaces the states the next accepted stop walks through
// after STOP_QUEUED.
func (s *Server) SetStopScript(clusterID uuid.UUID, states ...qovery.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustCluster("SetStopScript", clusterID).stopScript = slices.Clone(states)
}

func (s *Server) org(id uuid.UUID) *organization {
	for _, o := range s.orgs {
		if o.id == id {
			return o
		}
	}
	return nil
}

func (s *Server) cluster(id uuid.UUID) *cluster {
	for _, c := range s.clusters {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (s *Server) mustCluster(op string, id uuid.UUID) *cluster {
	c := s.cluster(id)
	if c == nil {
		panic(fmt.Sprintf("qoverysim: %s: unknown cluster %s", op, id))
	}
	return c
}

func (c *cluster) setLock(lock *qovery.ClusterLock, now time.Time) {
	if lock == nil {
		c.lock = nil
		return
	}
	l := *lock
	if l.TTLInDays != nil {
		ttl := *l.TTLInDays
		l.TTLInDays = &ttl
	}
	if l.ClusterID == uuid.Nil {
		l.ClusterID = c.id
	}
	if l.LockedAt.IsZero() {
		l.LockedAt = now.UTC().Truncate(time.Second)
	}
	c.lock = &l
}

// api returns the cluster as the list endpoint shows it. Reading the list
// does not advance the script: only the status endpoints do, so that a
// resolver listing clusters by name does not disturb a watcher's sequence.
func (c *cluster) api() qovery.Cluster {
	deployment := "UP_TO_DATE"
	if !c.everDeployed {
		deployment = "NEVER_DEPLOYED"
	}
	instanceType := ""
	if c.provider == "AWS" {
		instanceType = "T3A_LARGE"
	}
	return qovery.Cluster{
		ID:               c.id,
		CreatedAt:        c.createdAt,
		Organization:     qovery.ReferenceObject{ID: c.orgID},
		Name:             c.name,
		Region:           c.region,
		CloudProvider:    c.provider,
		Status:           c.state,
		DeploymentStatus: deployment,
		Kubernetes:       "MANAGED",
		Production:       c.production,
		Version:          "1.31",
		InstanceType:     instanceType,
		MinRunningNodes:  1,
		MaxRunningNodes:  3,
	}
}

// status returns the cluster's status without counting as a read.
func (c *cluster) status() qovery.ClusterStatus {
	var lock *qovery.ClusterLock
	if c.lock != nil {
		l := *c.lock
		lock = &l
	}
	return qovery.ClusterStatus{
		ClusterID:          c.id,
		Status:             c.state,
		IsDeployed:         c.everDeployed,
		LastExecutionID:    c.lastExecution,
		ClusterLock:        lock,
		LastDeploymentDate: c.lastDeployment,
		Reason:             c.reason,
	}
}

// read returns the status a status endpoint shows, then advances the script
// once the current state has been seen ReadsPerStep times.
func (c *cluster) read() qovery.ClusterStatus {
	st := c.status()
	if len(c.pending) > 0 {
		c.readsLeft--
		if c.readsLeft <= 0 {
			c.state, c.pending = c.pending[0], c.pending[1:]
			c.readsLeft = c.readsPerStep
		}
	}
	return st
}

// stoppable mirrors the documented 409: a cluster already stopped (or never
// deployed) or in the middle of an operation cannot be stopped.
func (c *cluster) stoppable() bool {
	return c.state != qovery.StateStopped && c.state != qovery.StateReady && !c.state.IsInProgress()
}

// stop accepts a stop, or explains the 409. The spec does not say what a
// lock blocks; the fake refuses with 409, the stop endpoint's only
// documented refusal, and names the lock.
func (c *cluster) stop(now time.Time) *apiError {
	if c.lock != nil {
		return &apiError{http.StatusConflict, lockDetail(c.lock)}
	}
	if !c.stoppable() {
		return &apiError{http.StatusConflict, "Cluster is already stopped or an operation is in progress"}
	}
	c.start(qovery.StateStopQueued, c.stopScript, now)
	return nil
}

// deploy accepts a deploy (Qovery's start), allowed from STOPPED or READY.
// Refusals are 400, the only error the spec documents for deploy besides
// auth and not-found, a lock included.
func (c *cluster) deploy(now time.Time) *apiError {
	if c.lock != nil {
		return &apiError{http.StatusBadRequest, lockDetail(c.lock)}
	}
	if c.state != qovery.StateStopped && c.state != qovery.StateReady {
		return &apiError{http.StatusBadRequest, fmt.Sprintf("Cluster cannot be deployed while it is %s", c.state)}
	}
	c.start(qovery.StateDeploymentQueued, c.deployScript, now)
	date := now.UTC()
	c.lastDeployment = &date
	c.everDeployed = true
	return nil
}

func (c *cluster) start(queued qovery.State, script []qovery.State, now time.Time) {
	c.state = queued
	c.pending = slices.Clone(script)
	c.readsLeft = c.readsPerStep
	// Real execution ids look like "<uuid>-<unix seconds>".
	c.lastExecution = uuid.NewString() + "-" + strconv.FormatInt(now.Unix(), 10)
}

func lockDetail(l *qovery.ClusterLock) string {
	return fmt.Sprintf("Cluster is locked by %s since %s: %s", l.OwnerName, l.LockedAt.UTC().Format(time.RFC3339), l.Reason)
}
