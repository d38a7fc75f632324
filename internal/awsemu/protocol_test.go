package awsemu

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const exampleAuthorization = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260102/us-east-1/%s/aws4_request, SignedHeaders=host;x-amz-date, Signature=" +
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// rawCall sends a hand-made request to the emulator's handler.
func rawCall(t *testing.T, emu *Emulator, body string, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	emu.Handler().ServeHTTP(rec, req)
	return rec
}

type xmlErrorResponse struct {
	XMLName   xml.Name `xml:"https://iam.amazonaws.com/doc/2010-05-08/ ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func TestUnsignedRequestsAreRejected(t *testing.T) {
	emu := New(Options{})
	rec := rawCall(t, emu, `{"Name":"/x"}`, map[string]string{"X-Amz-Target": "AmazonSSM.GetParameter", "Content-Type": "application/x-amz-json-1.1"})
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Equal(t, "application/x-amz-json-1.1", rec.Header().Get("Content-Type"))
	var jsonErr map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &jsonErr))
	assert.Equal(t, "MissingAuthenticationTokenException", jsonErr["__type"])

	rec = rawCall(t, emu, "Action=GetRole&Version=2010-05-08&RoleName=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	assert.Equal(t, http.StatusForbidden, rec.Code)
	var xmlErr xmlErrorResponse
	require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &xmlErr), rec.Body.String())
	assert.Equal(t, "Sender", xmlErr.Type)
	assert.Equal(t, "MissingAuthenticationToken", xmlErr.Code)
	assert.Equal(t, rec.Header().Get("X-Amzn-Requestid"), xmlErr.RequestID)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, xmlErr.RequestID)

	// The same through the SDK with anonymous credentials.
	env := newTestEnv(t, Options{})
	cfg := sdkConfig(aws.NopRetryer{})
	cfg.Credentials = aws.AnonymousCredentials{}
	anonymous := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(env.url) })
	requireAPIErrorCode(t, getParameter(t, anonymous, "/x"), "MissingAuthenticationTokenException")
	anonymousIAM := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(env.url) })
	_, err := anonymousIAM.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("x")})
	requireAPIErrorCode(t, err, "MissingAuthenticationToken")
	anonymousSTS := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(env.url) })
	_, err = anonymousSTS.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	requireAPIErrorCode(t, err, "MissingAuthenticationToken")
}

func TestMalformedSignatures(t *testing.T) {
	emu := New(Options{})
	ssmHeaders := func(auth string) map[string]string {
		return map[string]string{"X-Amz-Target": "AmazonSSM.DescribeParameters", "X-Amz-Date": "20260102T030405Z", "Authorization": auth}
	}
	rec := rawCall(t, emu, `{}`, ssmHeaders("AWS4-HMAC-SHA256 Credential=AKID/20260102/us-east-1/ssm/aws4_request"))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "IncompleteSignatureException")

	rec = rawCall(t, emu, `{}`, ssmHeaders(strings.Replace(exampleAuthorization, "%s", "iam", 1)))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Contains(t, rec.Body.String(), "Credential should be scoped to correct service: 'ssm'")

	rec = rawCall(t, emu, `{}`, ssmHeaders(strings.Replace(exampleAuthorization, "%s", "ssm", 1)))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	noDate := ssmHeaders(strings.Replace(exampleAuthorization, "%s", "ssm", 1))
	delete(noDate, "X-Amz-Date")
	rec = rawCall(t, emu, `{}`, noDate)
	assert.Contains(t, rec.Body.String(), "X-Amz-Date")
}

func TestQueryRoutingAndUnknownActions(t *testing.T) {
	emu := New(Options{})
	signed := func(service string) map[string]string {
		return map[string]string{"Authorization": strings.Replace(exampleAuthorization, "%s", service, 1), "X-Amz-Date": "20260102T030405Z"}
	}
	rec := rawCall(t, emu, "Action=GetCallerIdentity&Version=2011-06-15", signed("sts"))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`)
	assert.Contains(t, rec.Body.String(), "<GetCallerIdentityResult>")
	assert.Contains(t, rec.Body.String(), "<ResponseMetadata><RequestId>")

	rec = rawCall(t, emu, "Action=GetCallerIdentity&Version=2010-05-08", signed("iam"))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "<Code>InvalidAction</Code>")
	assert.Contains(t, rec.Body.String(), `xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`)

	rec = rawCall(t, emu, "Action=ListUsers&Version=2010-05-08", signed("iam"))
	assert.Contains(t, rec.Body.String(), "Could not find operation ListUsers for version 2010-05-08")

	rec = rawCall(t, emu, `{}`, map[string]string{"X-Amz-Target": "AmazonS3.ListBuckets"})
	assert.Contains(t, rec.Body.String(), "UnknownOperationException")

	// Unsigned calls route by action name.
	rec = rawCall(t, emu, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r&RoleSessionName=sess&WebIdentityToken=abcd", nil)
	assert.Contains(t, rec.Body.String(), "<Code>InvalidIdentityToken</Code>")
	assert.Contains(t, rec.Body.String(), `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`)
}

func TestXMLResponseShapes(t *testing.T) {
	emu := New(Options{})
	headers := map[string]string{"Authorization": strings.Replace(exampleAuthorization, "%s", "iam", 1), "X-Amz-Date": "20260102T030405Z"}
	body := "Action=CreateRole&Version=2010-05-08&RoleName=shape&AssumeRolePolicyDocument=" +
		strings.ReplaceAll(`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, `"`, "%22")
	rec := rawCall(t, emu, body, headers)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "text/xml", rec.Header().Get("Content-Type"))

	rec = rawCall(t, emu, "Action=DeleteRole&Version=2010-05-08&RoleName=shape", headers)
	require.Equal(t, http.StatusOK, rec.Code)
	out, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "DeleteRoleResult", "actions without output carry only ResponseMetadata")
	assert.Contains(t, string(out), "<DeleteRoleResponse")
}
