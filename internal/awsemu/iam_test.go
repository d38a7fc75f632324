package awsemu

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ec2TrustPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
}`

const readParametersPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter*"],"Resource":"*"}]}`

func createRole(t *testing.T, env *testEnv, name string) *iamtypes.Role {
	t.Helper()
	out, err := env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy)})
	require.NoError(t, err)
	return out.Role
}

func TestIAMCreateAndGetRole(t *testing.T) {
	env := newTestEnv(t, Options{})
	boundary, err := env.emu.CreatePolicy("Boundary", readParametersPolicy)
	require.NoError(t, err)

	created, err := env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{
		RoleName:                 aws.String("app-reader"),
		Path:                     aws.String("/operator/"),
		AssumeRolePolicyDocument: aws.String(ec2TrustPolicy),
		Description:              aws.String("reads parameters"),
		MaxSessionDuration:       aws.Int32(7200),
		PermissionsBoundary:      aws.String(boundary),
		Tags:                     []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("platform")}, {Key: aws.String("empty"), Value: aws.String("")}},
	})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::123456789012:role/operator/app-reader", aws.ToString(created.Role.Arn))
	assert.Regexp(t, `^AROA[A-Z2-7]{17}$`, aws.ToString(created.Role.RoleId))

	got, err := env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("APP-READER")})
	require.NoError(t, err, "role names are case-insensitive")
	role := got.Role
	assert.Equal(t, "app-reader", aws.ToString(role.RoleName))
	assert.Equal(t, "/operator/", aws.ToString(role.Path))
	assert.Equal(t, "reads parameters", aws.ToString(role.Description))
	assert.Equal(t, int32(7200), aws.ToInt32(role.MaxSessionDuration))
	assert.Equal(t, env.clock.Now(), role.CreateDate.UTC())
	require.NotNil(t, role.PermissionsBoundary)
	assert.Equal(t, boundary, aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn))
	assert.Equal(t, iamtypes.PermissionsBoundaryAttachmentTypePolicy, role.PermissionsBoundary.PermissionsBoundaryType)
	assert.Equal(t, []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("platform")}, {Key: aws.String("empty"), Value: aws.String("")}}, role.Tags)

	// IAM returns trust policies URL-encoded, as the real service does.
	encoded := aws.ToString(role.AssumeRolePolicyDocument)
	assert.True(t, strings.HasPrefix(encoded, "%7B"), encoded)
	decoded, err := url.QueryUnescape(encoded)
	require.NoError(t, err)
	assert.JSONEq(t, ec2TrustPolicy, decoded)

	_, err = env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("App-Reader"), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy)})
	var exists *iamtypes.EntityAlreadyExistsException
	require.ErrorAs(t, err, &exists)

	policy, err := env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String(boundary)})
	require.NoError(t, err)
	assert.Equal(t, int32(1), aws.ToInt32(policy.Policy.PermissionsBoundaryUsageCount))
}

func TestIAMCreateRoleValidation(t *testing.T) {
	env := newTestEnv(t, Options{TrustPolicySizeLimit: 200})
	padded := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("x", 150) + `","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	for name, tc := range map[string]struct {
		in   iam.CreateRoleInput
		code string
	}{
		"bad name":          {iam.CreateRoleInput{RoleName: aws.String("has space"), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy)}, "ValidationError"},
		"name too long":     {iam.CreateRoleInput{RoleName: aws.String(strings.Repeat("r", 65)), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy)}, "ValidationError"},
		"bad path":          {iam.CreateRoleInput{RoleName: aws.String("r"), Path: aws.String("noslash"), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy)}, "ValidationError"},
		"not json":          {iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{nope")}, "MalformedPolicyDocument"},
		"resource in trust": {iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`)}, "MalformedPolicyDocument"},
		"no principal":      {iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)}, "MalformedPolicyDocument"},
		"trust too large":   {iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(padded)}, "LimitExceeded"},
		"session too long":  {iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy), MaxSessionDuration: aws.Int32(50000)}, "ValidationError"},
		"unknown boundary":  {iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy), PermissionsBoundary: aws.String("arn:aws:iam::123456789012:policy/Nope")}, "NoSuchEntity"},
		"duplicate tags":    {iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("K"), Value: aws.String("2")}}}, "InvalidInput"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := env.iam.CreateRole(ctx(t), &tc.in)
			requireAPIErrorCode(t, err, tc.code)
		})
	}
	_, err := env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("[]")})
	var malformed *iamtypes.MalformedPolicyDocumentException
	require.ErrorAs(t, err, &malformed)
	_, err = env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(padded)})
	var limit *iamtypes.LimitExceededException
	require.ErrorAs(t, err, &limit)
	assert.Contains(t, limit.ErrorMessage(), "ACLSizePerRole: 200")
}

func TestIAMAttachDetachAndDelete(t *testing.T) {
	env := newTestEnv(t, Options{})
	createRole(t, env, "worker")
	readOnly := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	custom, err := env.emu.CreatePolicy("ReadParams", readParametersPolicy)
	require.NoError(t, err)

	for _, arn := range []string{readOnly, custom, readOnly} {
		_, err := env.iam.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String(arn)})
		require.NoError(t, err)
	}
	policy, err := env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String(readOnly)})
	require.NoError(t, err)
	assert.Equal(t, int32(1), aws.ToInt32(policy.Policy.AttachmentCount))
	assert.Equal(t, "ReadOnlyAccess", aws.ToString(policy.Policy.PolicyName))

	_, err = env.iam.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	var noSuch *iamtypes.NoSuchEntityException
	require.ErrorAs(t, err, &noSuch)
	_, err = env.iam.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("ghost"), PolicyArn: aws.String(readOnly)})
	require.ErrorAs(t, err, &noSuch)
	_, err = env.iam.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String("not-an-arn")})
	requireAPIErrorCode(t, err, "InvalidInput")

	_, err = env.iam.DeleteRole(ctx(t), &iam.DeleteRoleInput{RoleName: aws.String("worker")})
	var conflict *iamtypes.DeleteConflictException
	require.ErrorAs(t, err, &conflict)

	for _, arn := range []string{readOnly, custom} {
		_, err := env.iam.DetachRolePolicy(ctx(t), &iam.DetachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String(arn)})
		require.NoError(t, err)
	}
	_, err = env.iam.DetachRolePolicy(ctx(t), &iam.DetachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String(readOnly)})
	require.ErrorAs(t, err, &noSuch)

	_, err = env.iam.DeleteRole(ctx(t), &iam.DeleteRoleInput{RoleName: aws.String("worker")})
	require.NoError(t, err)
	_, err = env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("worker")})
	require.ErrorAs(t, err, &noSuch)
	assert.Equal(t, "The role with name worker cannot be found.", noSuch.ErrorMessage())
}

func TestIAMManagedPolicyQuota(t *testing.T) {
	env := newTestEnv(t, Options{ManagedPoliciesPerRole: 2})
	createRole(t, env, "quota")
	for i, name := range []string{"AmazonS3ReadOnlyAccess", "AmazonSSMReadOnlyAccess", "CloudWatchReadOnlyAccess"} {
		_, err := env.iam.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("quota"), PolicyArn: aws.String("arn:aws:iam::aws:policy/" + name)})
		if i < 2 {
			require.NoError(t, err)
			continue
		}
		var limit *iamtypes.LimitExceededException
		require.ErrorAs(t, err, &limit)
		assert.Equal(t, "Cannot exceed quota for PoliciesPerRole: 2", limit.ErrorMessage())
	}
}

func TestIAMListAttachedRolePoliciesPaging(t *testing.T) {
	env := newTestEnv(t, Options{})
	createRole(t, env, "lister")
	var want []string
	for i := 0; i < 7; i++ {
		arn, err := env.emu.CreatePolicy(fmt.Sprintf("P%d", i), readParametersPolicy)
		require.NoError(t, err)
		want = append(want, arn)
		_, err = env.iam.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("lister"), PolicyArn: aws.String(arn)})
		require.NoError(t, err)
	}
	first, err := env.iam.ListAttachedRolePolicies(ctx(t), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("lister"), MaxItems: aws.Int32(3)})
	require.NoError(t, err)
	assert.True(t, first.IsTruncated)
	assert.NotEmpty(t, aws.ToString(first.Marker))
	assert.Len(t, first.AttachedPolicies, 3)
	assert.Equal(t, "P0", aws.ToString(first.AttachedPolicies[0].PolicyName))

	var got []string
	paginator := iam.NewListAttachedRolePoliciesPaginator(env.iam, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("lister"), MaxItems: aws.Int32(3)})
	pages := 0
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx(t))
		require.NoError(t, err)
		for _, p := range page.AttachedPolicies {
			got = append(got, aws.ToString(p.PolicyArn))
		}
		pages++
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages)

	_, err = env.iam.ListAttachedRolePolicies(ctx(t), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("lister"), MaxItems: aws.Int32(0)})
	requireAPIErrorCode(t, err, "ValidationError")
}

func TestIAMUpdateAssumeRolePolicy(t *testing.T) {
	env := newTestEnv(t, Options{})
	createRole(t, env, "updatable")
	updated := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	_, err := env.iam.UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("updatable"), PolicyDocument: aws.String(updated)})
	require.NoError(t, err)
	got, err := env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("updatable")})
	require.NoError(t, err)
	decoded, err := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument))
	require.NoError(t, err)
	assert.JSONEq(t, updated, decoded)

	_, err = env.iam.UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("updatable"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"sts:AssumeRole"}]}`)})
	var malformed *iamtypes.MalformedPolicyDocumentException
	require.ErrorAs(t, err, &malformed)
	_, err = env.iam.UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ghost"), PolicyDocument: aws.String(updated)})
	var noSuch *iamtypes.NoSuchEntityException
	require.ErrorAs(t, err, &noSuch)
}

func TestIAMPermissionsBoundary(t *testing.T) {
	env := newTestEnv(t, Options{})
	createRole(t, env, "bounded")
	boundary := "arn:aws:iam::aws:policy/PowerUserAccess"
	_, err := env.iam.PutRolePermissionsBoundary(ctx(t), &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("bounded"), PermissionsBoundary: aws.String(boundary)})
	require.NoError(t, err)
	got, err := env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("bounded")})
	require.NoError(t, err)
	assert.Equal(t, boundary, aws.ToString(got.Role.PermissionsBoundary.PermissionsBoundaryArn))

	_, err = env.iam.PutRolePermissionsBoundary(ctx(t), &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("bounded"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/Missing")})
	var noSuch *iamtypes.NoSuchEntityException
	require.ErrorAs(t, err, &noSuch)

	_, err = env.iam.DeleteRolePermissionsBoundary(ctx(t), &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("bounded")})
	require.NoError(t, err)
	got, err = env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("bounded")})
	require.NoError(t, err)
	assert.Nil(t, got.Role.PermissionsBoundary)
}

func TestIAMRoleTags(t *testing.T) {
	env := newTestEnv(t, Options{})
	createRole(t, env, "tagged")
	tag := func(k, v string) iamtypes.Tag { return iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	_, err := env.iam.TagRole(ctx(t), &iam.TagRoleInput{RoleName: aws.String("tagged"), Tags: []iamtypes.Tag{tag("b", "1"), tag("a", "2"), tag("c", "3")}})
	require.NoError(t, err)
	_, err = env.iam.TagRole(ctx(t), &iam.TagRoleInput{RoleName: aws.String("tagged"), Tags: []iamtypes.Tag{tag("B", "updated")}})
	require.NoError(t, err)
	_, err = env.iam.UntagRole(ctx(t), &iam.UntagRoleInput{RoleName: aws.String("tagged"), TagKeys: []string{"c"}})
	require.NoError(t, err)

	first, err := env.iam.ListRoleTags(ctx(t), &iam.ListRoleTagsInput{RoleName: aws.String("tagged"), MaxItems: aws.Int32(1)})
	require.NoError(t, err)
	assert.True(t, first.IsTruncated)
	assert.Equal(t, []iamtypes.Tag{tag("B", "updated")}, first.Tags)
	rest, err := env.iam.ListRoleTags(ctx(t), &iam.ListRoleTagsInput{RoleName: aws.String("tagged"), Marker: first.Marker})
	require.NoError(t, err)
	assert.False(t, rest.IsTruncated)
	assert.Equal(t, []iamtypes.Tag{tag("a", "2")}, rest.Tags)

	many := make([]iamtypes.Tag, 50)
	for i := range many {
		many[i] = tag(fmt.Sprintf("k%d", i), "v")
	}
	_, err = env.iam.TagRole(ctx(t), &iam.TagRoleInput{RoleName: aws.String("tagged"), Tags: many})
	var limit *iamtypes.LimitExceededException
	require.ErrorAs(t, err, &limit)
}

func TestIAMCreateAndGetPolicy(t *testing.T) {
	env := newTestEnv(t, Options{Partition: "aws-cn", AccountID: "210987654321"})
	out, err := env.iam.CreatePolicy(ctx(t), &iam.CreatePolicyInput{
		PolicyName: aws.String("Reader"), Path: aws.String("/team/"), PolicyDocument: aws.String(readParametersPolicy), Description: aws.String("read"),
	})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws-cn:iam::210987654321:policy/team/Reader", aws.ToString(out.Policy.Arn))
	assert.Regexp(t, `^ANPA`, aws.ToString(out.Policy.PolicyId))
	assert.Equal(t, "v1", aws.ToString(out.Policy.DefaultVersionId))
	assert.True(t, out.Policy.IsAttachable)

	got, err := env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: out.Policy.Arn})
	require.NoError(t, err)
	assert.Equal(t, "read", aws.ToString(got.Policy.Description))

	_, err = env.iam.CreatePolicy(ctx(t), &iam.CreatePolicyInput{PolicyName: aws.String("reader"), PolicyDocument: aws.String(readParametersPolicy)})
	var exists *iamtypes.EntityAlreadyExistsException
	require.ErrorAs(t, err, &exists)

	for _, document := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ssm:GetParameter","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetParameter","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}`,
		`{"Version":"2012-10-17","Statement":[]}`,
		`{"Version":"1999-01-01","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*"}]}`,
	} {
		_, err = env.iam.CreatePolicy(ctx(t), &iam.CreatePolicyInput{PolicyName: aws.String("Bad"), PolicyDocument: aws.String(document)})
		var malformed *iamtypes.MalformedPolicyDocumentException
		require.ErrorAs(t, err, &malformed, document)
	}

	managed, err := env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws-cn:iam::aws:policy/AdministratorAccess")})
	require.NoError(t, err)
	assert.Equal(t, "/", aws.ToString(managed.Policy.Path))
	_, err = env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws-cn:iam::aws:policy/job-function/ViewOnlyAccess")})
	require.NoError(t, err)
	_, err = env.iam.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws-cn:iam::aws:policy/Nope")})
	var noSuch *iamtypes.NoSuchEntityException
	require.ErrorAs(t, err, &noSuch)
}

func TestIAMOpenIDConnectProviders(t *testing.T) {
	env := newTestEnv(t, Options{})
	created, err := env.iam.CreateOpenIDConnectProvider(ctx(t), &iam.CreateOpenIDConnectProviderInput{
		Url:            aws.String("https://oidc.example.com/id/ABC/"),
		ClientIDList:   []string{"sts.amazonaws.com"},
		ThumbprintList: []string{strings.Repeat("a", 40)},
	})
	require.NoError(t, err)
	arn := aws.ToString(created.OpenIDConnectProviderArn)
	assert.Equal(t, "arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/ABC", arn)

	got, err := env.iam.GetOpenIDConnectProvider(ctx(t), &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	require.NoError(t, err)
	assert.Equal(t, "oidc.example.com/id/ABC", aws.ToString(got.Url))
	assert.Equal(t, []string{"sts.amazonaws.com"}, got.ClientIDList)
	assert.Equal(t, []string{strings.Repeat("a", 40)}, got.ThumbprintList)

	_, err = env.iam.CreateOpenIDConnectProvider(ctx(t), &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://oidc.example.com/id/ABC")})
	var exists *iamtypes.EntityAlreadyExistsException
	require.ErrorAs(t, err, &exists)
	_, err = env.iam.CreateOpenIDConnectProvider(ctx(t), &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://insecure.example.com")})
	requireAPIErrorCode(t, err, "ValidationError")

	second, err := env.emu.CreateOIDCProvider("https://127.0.0.1:6443", []string{"aud"})
	require.NoError(t, err)
	list, err := env.iam.ListOpenIDConnectProviders(ctx(t), &iam.ListOpenIDConnectProvidersInput{})
	require.NoError(t, err)
	require.Len(t, list.OpenIDConnectProviderList, 2)
	assert.Equal(t, second, aws.ToString(list.OpenIDConnectProviderList[0].Arn))

	_, err = env.iam.DeleteOpenIDConnectProvider(ctx(t), &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	require.NoError(t, err)
	_, err = env.iam.GetOpenIDConnectProvider(ctx(t), &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	var noSuch *iamtypes.NoSuchEntityException
	require.ErrorAs(t, err, &noSuch)
	_, err = env.iam.DeleteOpenIDConnectProvider(ctx(t), &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	require.ErrorAs(t, err, &noSuch)
}

func TestIAMEventualConsistency(t *testing.T) {
	env := newTestEnv(t, Options{})
	env.emu.SetIAMEventualConsistency(5 * time.Second)
	createRole(t, env, "fresh")

	_, err := env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("fresh")})
	var noSuch *iamtypes.NoSuchEntityException
	require.ErrorAs(t, err, &noSuch)
	_, err = env.iam.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("fresh"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	require.ErrorAs(t, err, &noSuch)
	// Creating it again still conflicts: the write path is consistent.
	_, err = env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("fresh"), AssumeRolePolicyDocument: aws.String(ec2TrustPolicy)})
	var exists *iamtypes.EntityAlreadyExistsException
	require.ErrorAs(t, err, &exists)

	env.clock.Advance(5 * time.Second)
	_, err = env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("fresh")})
	require.NoError(t, err)

	env.emu.SetIAMEventualConsistency(0)
	createRole(t, env, "immediate")
	_, err = env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("immediate")})
	require.NoError(t, err)
}
