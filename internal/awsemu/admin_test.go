package awsemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func admin(t *testing.T, emu *Emulator, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, AdminPathPrefix+path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	emu.Handler().ServeHTTP(rec, req)
	return rec
}

func TestAdminEndpoints(t *testing.T) {
	env := newTestEnv(t, Options{})
	emu := env.emu

	rec := admin(t, emu, http.MethodGet, "health", "")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"ok"}`, rec.Body.String())

	rec = admin(t, emu, http.MethodPost, "seed", `{
	  "parameters": [{"name": "/seeded/a", "value": "1"}, {"name": "/seeded/s", "value": "secret", "type": "SecureString"}],
	  "policies": [{"name": "Seeded", "path": "/team/", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}]}},
	               {"name": "Quoted", "document": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"}],
	  "oidcProviders": [{"url": "https://127.0.0.1:6443", "clientIDs": ["sts.amazonaws.com"]}]
	}`)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	got, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/seeded/s"), WithDecryption: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "secret", aws.ToString(got.Parameter.Value))
	_, err = env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/team/Seeded")})
	require.NoError(t, err)
	_, err = env.iam.GetOpenIDConnectProvider(ctx(t), &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::123456789012:oidc-provider/127.0.0.1:6443")})
	require.NoError(t, err)

	rec = admin(t, emu, http.MethodGet, "calls", "")
	var calls []CallCount
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &calls))
	assert.Contains(t, calls, CallCount{Service: "ssm", Operation: "GetParameter", Outcome: "ok", Count: 1})
	rec = admin(t, emu, http.MethodGet, "actions", "")
	assert.JSONEq(t, `["iam:GetOpenIDConnectProvider","iam:GetPolicy","ssm:GetParameter"]`, rec.Body.String())
	rec = admin(t, emu, http.MethodDelete, "calls", "")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Empty(t, emu.Snapshot())

	rec = admin(t, emu, http.MethodPut, "rate-limits", `{"service":"ssm","operations":["GetParameter"],"perSecond":1,"burst":1}`)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.NoError(t, getParameter(t, env.ssm, "/seeded/a"))
	requireAPIErrorCode(t, getParameter(t, env.ssm, "/seeded/a"), "ThrottlingException")
	admin(t, emu, http.MethodDelete, "rate-limits", "")
	require.NoError(t, getParameter(t, env.ssm, "/seeded/a"))

	rec = admin(t, emu, http.MethodPut, "faults", `{"service":"ssm","internalErrorPercent":100,"limit":1}`)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	requireAPIErrorCode(t, getParameter(t, env.ssm, "/seeded/a"), "InternalServerError")
	require.NoError(t, getParameter(t, env.ssm, "/seeded/a"))
	admin(t, emu, http.MethodPut, "faults", `{"service":"ssm","internalErrorPercent":100}`)
	admin(t, emu, http.MethodDelete, "faults", "")
	require.NoError(t, getParameter(t, env.ssm, "/seeded/a"))

	rec = admin(t, emu, http.MethodPut, "latency", `{"service":"ssm","latency":"30ms"}`)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	start := time.Now()
	require.NoError(t, getParameter(t, env.ssm, "/seeded/a"))
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	admin(t, emu, http.MethodPut, "latency", `{"service":"ssm","latency":"0s"}`)

	rec = admin(t, emu, http.MethodPut, "iam-eventual-consistency", `{"delay":"1m"}`)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	createRole(t, env, "eventual")
	_, err = env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("eventual")})
	requireAPIErrorCode(t, err, "NoSuchEntity")
}

func TestAdminRejectsBadRequests(t *testing.T) {
	emu := New(Options{})
	for name, tc := range map[string]struct {
		method, path, body string
		status             int
	}{
		"unknown service":  {http.MethodPut, "latency", `{"service":"s3","latency":"1s"}`, http.StatusBadRequest},
		"bad duration":     {http.MethodPut, "latency", `{"service":"ssm","latency":"soon"}`, http.StatusBadRequest},
		"numeric duration": {http.MethodPut, "latency", `{"service":"ssm","latency":5}`, http.StatusBadRequest},
		"unknown field":    {http.MethodPut, "faults", `{"service":"ssm","errorPercent":5}`, http.StatusBadRequest},
		"negative delay":   {http.MethodPut, "iam-eventual-consistency", `{"delay":"-1s"}`, http.StatusBadRequest},
		"invalid seed":     {http.MethodPost, "seed", `{"parameters":[{"name":"bad name","value":"v"}]}`, http.StatusBadRequest},
		"wrong method":     {http.MethodPost, "calls", ``, http.StatusMethodNotAllowed},
		"unknown endpoint": {http.MethodGet, "nope", ``, http.StatusNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			rec := admin(t, emu, tc.method, tc.path, tc.body)
			assert.Equal(t, tc.status, rec.Code, rec.Body.String())
		})
	}
}

func TestLoadSeed(t *testing.T) {
	seed, err := LoadSeed(strings.NewReader(`{"parameters":[{"name":"/a","value":"b","type":"StringList"}]}`))
	require.NoError(t, err)
	assert.Equal(t, []SeedParameter{{Name: "/a", Value: "b", Type: "StringList"}}, seed.Parameters)

	_, err = LoadSeed(strings.NewReader(`{"parameter":[]}`))
	assert.Error(t, err)
}
