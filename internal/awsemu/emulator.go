// Package awsemu is an in-process emulator of the AWS SSM Parameter Store,
// IAM and STS APIs. It speaks the real wire protocols (awsJson1_1 for SSM,
// awsQuery for IAM and STS) so that the unmodified aws-sdk-go-v2 clients can
// be pointed at it through AWS_ENDPOINT_URL or BaseEndpoint.
//
// Besides the APIs it offers knobs for tests and benchmarks: call counters,
// rate limits, latency and fault injection, IAM eventual consistency and a
// record of every action called (see knobs.go and admin.go).
package awsemu

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Service names as they appear in SigV4 credential scopes and IAM actions.
const (
	ServiceSSM = "ssm"
	ServiceIAM = "iam"
	ServiceSTS = "sts"
)

// Options configures an Emulator. The zero value is usable.
type Options struct {
	// AccountID owns every resource; default "123456789012".
	AccountID string
	// Partition is used in ARNs; default "aws".
	Partition string
	// Region is used in SSM ARNs; default "us-east-1".
	Region string
	// CallerARN and CallerUserID are what GetCallerIdentity returns for
	// long-term credentials; default an IAM user "awsemu" in AccountID.
	CallerARN    string
	CallerUserID string
	// Now is the clock for timestamps, token expiry, rate limits and IAM
	// eventual consistency; default time.Now.
	Now func() time.Time
	// JWKSResolver fetches the key set of an OIDC issuer for
	// AssumeRoleWithWebIdentity; default DiscoveryJWKSResolver(HTTPClient).
	JWKSResolver JWKSResolver
	// HTTPClient is used by the default JWKSResolver; default http.DefaultClient.
	HTTPClient *http.Client
	// ManagedPoliciesPerRole is the IAM quota on attached managed policies; default 10.
	ManagedPoliciesPerRole int
	// TrustPolicySizeLimit is the IAM quota on a role trust policy's size in
	// non-whitespace characters; default 2048.
	TrustPolicySizeLimit int
	// FaultSeed seeds the random choice of injected faults; default 1.
	FaultSeed uint64
}

func (o Options) withDefaults() Options {
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	if o.Partition == "" {
		o.Partition = "aws"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.CallerARN == "" {
		o.CallerARN = "arn:" + o.Partition + ":iam::" + o.AccountID + ":user/awsemu"
	}
	if o.CallerUserID == "" {
		o.CallerUserID = "AIDAAWSEMULATORUSER1"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.JWKSResolver == nil {
		o.JWKSResolver = DiscoveryJWKSResolver(o.HTTPClient)
	}
	if o.ManagedPoliciesPerRole == 0 {
		o.ManagedPoliciesPerRole = 10
	}
	if o.TrustPolicySizeLimit == 0 {
		o.TrustPolicySizeLimit = 2048
	}
	if o.FaultSeed == 0 {
		o.FaultSeed = 1
	}
	return o
}

// environment is what every service shares: identity, clock and IDs.
type environment struct {
	accountID string
	partition string
	region    string
	now       func() time.Time
	ids       *idGenerator
}

// Emulator serves the SSM, IAM and STS APIs from memory. It is safe for
// concurrent use.
type Emulator struct {
	env      *environment
	ssm      *ssmService
	iam      *iamService
	sts      *stsService
	services map[string]*service
	knobs    *knobs
	admin    http.Handler

	// closing releases requests held by injected latency and timeouts.
	closing   chan struct{}
	closeOnce sync.Once

	serverMu sync.Mutex
	server   *httptest.Server
}

// New returns an emulator with empty SSM and STS state and an IAM account
// that already holds the catalogue of common AWS managed policies.
func New(opts Options) *Emulator {
	opts = opts.withDefaults()
	env := &environment{
		accountID: opts.AccountID,
		partition: opts.Partition,
		region:    opts.Region,
		now:       opts.Now,
		ids:       &idGenerator{},
	}
	e := &Emulator{
		env:     env,
		ssm:     newSSMService(env),
		iam:     newIAMService(env, opts.ManagedPoliciesPerRole, opts.TrustPolicySizeLimit),
		knobs:   newKnobs(opts.FaultSeed),
		closing: make(chan struct{}),
	}
	e.sts = newSTSService(env, e.iam, opts.JWKSResolver, callerIdentity{arn: opts.CallerARN, userID: opts.CallerUserID, account: opts.AccountID})
	e.services = map[string]*service{
		ServiceSSM: e.ssm.describe(),
		ServiceIAM: e.iam.describe(),
		ServiceSTS: e.sts.describe(),
	}
	e.admin = e.adminHandler()
	return e
}

// Handler returns the HTTP handler serving the AWS APIs at "/" and the admin
// endpoints under AdminPathPrefix.
func (e *Emulator) Handler() http.Handler {
	return http.HandlerFunc(e.serve)
}

// Start serves the emulator on a loopback port and returns its base URL, for
// use as AWS_ENDPOINT_URL or an SDK client's BaseEndpoint. Calling Start
// again returns the same URL.
func (e *Emulator) Start() string {
	e.serverMu.Lock()
	defer e.serverMu.Unlock()
	if e.server == nil {
		e.server = httptest.NewServer(e.Handler())
	}
	return e.server.URL
}

// Close releases requests held by injected latency or timeouts and stops
// the server started by Start, if any.
func (e *Emulator) Close() {
	e.closeOnce.Do(func() { close(e.closing) })
	e.serverMu.Lock()
	defer e.serverMu.Unlock()
	if e.server != nil {
		e.server.Close()
	}
}
