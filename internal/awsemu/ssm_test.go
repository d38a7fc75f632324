package awsemu

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSSMPutAndGetParameter(t *testing.T) {
	env := newTestEnv(t, Options{})
	put, err := env.ssm.PutParameter(ctx(t), &ssm.PutParameterInput{
		Name: aws.String("/app/db/host"), Value: aws.String("db.local"), Type: ssmtypes.ParameterTypeString,
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), put.Version)
	assert.Equal(t, ssmtypes.ParameterTierStandard, put.Tier)

	got, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/app/db/host")})
	require.NoError(t, err)
	p := got.Parameter
	assert.Equal(t, "/app/db/host", aws.ToString(p.Name))
	assert.Equal(t, "db.local", aws.ToString(p.Value))
	assert.Equal(t, ssmtypes.ParameterTypeString, p.Type)
	assert.Equal(t, int64(1), p.Version)
	assert.Equal(t, "text", aws.ToString(p.DataType))
	assert.Equal(t, "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host", aws.ToString(p.ARN))
	assert.Equal(t, env.clock.Now(), p.LastModifiedDate.UTC())
	assert.Nil(t, p.Selector)
}

func TestSSMPutParameterOverwriteAndVersions(t *testing.T) {
	env := newTestEnv(t, Options{})
	in := &ssm.PutParameterInput{Name: aws.String("plain"), Value: aws.String("v1"), Type: ssmtypes.ParameterTypeString}
	_, err := env.ssm.PutParameter(ctx(t), in)
	require.NoError(t, err)

	_, err = env.ssm.PutParameter(ctx(t), in)
	var exists *ssmtypes.ParameterAlreadyExists
	require.ErrorAs(t, err, &exists)

	for want := int64(2); want <= 3; want++ {
		out, err := env.ssm.PutParameter(ctx(t), &ssm.PutParameterInput{
			Name: aws.String("plain"), Value: aws.String(fmt.Sprintf("v%d", want)), Overwrite: aws.Bool(true),
		})
		require.NoError(t, err)
		assert.Equal(t, want, out.Version)
	}
	got, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("plain")})
	require.NoError(t, err)
	assert.Equal(t, "v3", aws.ToString(got.Parameter.Value))
	assert.Equal(t, "arn:aws:ssm:us-east-1:123456789012:parameter/plain", aws.ToString(got.Parameter.ARN))

	_, err = env.ssm.PutParameter(ctx(t), &ssm.PutParameterInput{
		Name: aws.String("plain"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
	})
	var mismatch *ssmtypes.HierarchyTypeMismatchException
	require.ErrorAs(t, err, &mismatch)
}

func TestSSMPutParameterValidation(t *testing.T) {
	env := newTestEnv(t, Options{})
	deep := "/" + strings.Repeat("level/", 15) + "leaf"
	for name, tc := range map[string]struct {
		in   ssm.PutParameterInput
		code string
	}{
		"space in name":       {ssm.PutParameterInput{Name: aws.String("/a b"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		"bad character":       {ssm.PutParameterInput{Name: aws.String("/a$b"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		"reserved aws prefix": {ssm.PutParameterInput{Name: aws.String("/aws/x"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		"reserved ssm prefix": {ssm.PutParameterInput{Name: aws.String("SSMthing"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		"unqualified path":    {ssm.PutParameterInput{Name: aws.String("a/b"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		"too long":            {ssm.PutParameterInput{Name: aws.String("/" + strings.Repeat("x", 1000)), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		"too deep":            {ssm.PutParameterInput{Name: aws.String(deep), Value: aws.String("v"), Type: "String"}, "HierarchyLevelLimitExceededException"},
		"no type on create":   {ssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v")}, "ValidationException"},
		"bad type":            {ssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "Number"}, "ValidationException"},
		"empty value":         {ssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String(""), Type: "String"}, "ValidationException"},
		"value too large":     {ssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String(strings.Repeat("x", 4097)), Type: "String"}, "ValidationException"},
		"pattern mismatch":    {ssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("abc"), Type: "String", AllowedPattern: aws.String("[0-9]+")}, "ParameterPatternMismatchException"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := env.ssm.PutParameter(ctx(t), &tc.in)
			requireAPIErrorCode(t, err, tc.code)
		})
	}
	var hierarchy *ssmtypes.HierarchyLevelLimitExceededException
	_, err := env.ssm.PutParameter(ctx(t), &ssm.PutParameterInput{Name: aws.String(deep), Value: aws.String("v"), Type: "String"})
	require.ErrorAs(t, err, &hierarchy)

	// Fifteen levels is the maximum, not beyond it.
	_, err = env.ssm.PutParameter(ctx(t), &ssm.PutParameterInput{Name: aws.String("/" + strings.Repeat("l/", 14) + "leaf"), Value: aws.String("v"), Type: "String"})
	require.NoError(t, err)
}

func TestSSMGetParameterNotFound(t *testing.T) {
	env := newTestEnv(t, Options{})
	_, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/missing")})
	var notFound *ssmtypes.ParameterNotFound
	require.ErrorAs(t, err, &notFound)
	assert.Equal(t, "ParameterNotFound", notFound.ErrorCode())
}

func TestSSMSelectors(t *testing.T) {
	env := newTestEnv(t, Options{})
	for i := 1; i <= 3; i++ {
		require.NoError(t, env.emu.PutParameter("/cfg/mode", fmt.Sprintf("v%d", i), ParameterTypeString))
	}
	labelled, err := env.ssm.LabelParameterVersion(ctx(t), &ssm.LabelParameterVersionInput{
		Name: aws.String("/cfg/mode"), ParameterVersion: aws.Int64(2), Labels: []string{"stable", "1bad", "awsNope"},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(2), labelled.ParameterVersion)
	assert.Equal(t, []string{"1bad", "awsNope"}, labelled.InvalidLabels)

	byVersion, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/cfg/mode:1")})
	require.NoError(t, err)
	assert.Equal(t, "/cfg/mode", aws.ToString(byVersion.Parameter.Name))
	assert.Equal(t, ":1", aws.ToString(byVersion.Parameter.Selector))
	assert.Equal(t, "v1", aws.ToString(byVersion.Parameter.Value))
	assert.Equal(t, int64(1), byVersion.Parameter.Version)

	byLabel, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/cfg/mode:stable")})
	require.NoError(t, err)
	assert.Equal(t, ":stable", aws.ToString(byLabel.Parameter.Selector))
	assert.Equal(t, "v2", aws.ToString(byLabel.Parameter.Value))

	byARN, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:us-east-1:123456789012:parameter/cfg/mode:3")})
	require.NoError(t, err)
	assert.Equal(t, "v3", aws.ToString(byARN.Parameter.Value))

	// Moving the label to version 3.
	_, err = env.ssm.LabelParameterVersion(ctx(t), &ssm.LabelParameterVersionInput{Name: aws.String("/cfg/mode"), Labels: []string{"stable"}})
	require.NoError(t, err)
	byLabel, err = env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/cfg/mode:stable")})
	require.NoError(t, err)
	assert.Equal(t, "v3", aws.ToString(byLabel.Parameter.Value))

	_, err = env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/cfg/mode:9")})
	var versionNotFound *ssmtypes.ParameterVersionNotFound
	require.ErrorAs(t, err, &versionNotFound)
	_, err = env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/cfg/mode:nolabel")})
	var notFound *ssmtypes.ParameterNotFound
	require.ErrorAs(t, err, &notFound)

	_, err = env.ssm.LabelParameterVersion(ctx(t), &ssm.LabelParameterVersionInput{Name: aws.String("/cfg/mode"), ParameterVersion: aws.Int64(7), Labels: []string{"x"}})
	require.ErrorAs(t, err, &versionNotFound)

	many := []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l10"}
	_, err = env.ssm.LabelParameterVersion(ctx(t), &ssm.LabelParameterVersionInput{Name: aws.String("/cfg/mode"), ParameterVersion: aws.Int64(1), Labels: many})
	require.NoError(t, err)
	_, err = env.ssm.LabelParameterVersion(ctx(t), &ssm.LabelParameterVersionInput{Name: aws.String("/cfg/mode"), ParameterVersion: aws.Int64(1), Labels: []string{"l11"}})
	var tooMany *ssmtypes.ParameterVersionLabelLimitExceeded
	require.ErrorAs(t, err, &tooMany)
}

func TestSSMGetParameters(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.PutParameter("/a", "1", ParameterTypeString))
	require.NoError(t, env.emu.PutParameter("/a", "2", ParameterTypeString))
	require.NoError(t, env.emu.PutParameter("/b", "x,y", ParameterTypeStringList))

	out, err := env.ssm.GetParameters(ctx(t), &ssm.GetParametersInput{Names: []string{"/a:1", "/b", "/missing", "/a:5"}})
	require.NoError(t, err)
	require.Len(t, out.Parameters, 2)
	assert.Equal(t, "/a", aws.ToString(out.Parameters[0].Name))
	assert.Equal(t, ":1", aws.ToString(out.Parameters[0].Selector))
	assert.Equal(t, "1", aws.ToString(out.Parameters[0].Value))
	assert.Equal(t, ssmtypes.ParameterTypeStringList, out.Parameters[1].Type)
	assert.Equal(t, "x,y", aws.ToString(out.Parameters[1].Value))
	assert.Equal(t, []string{"/missing", "/a:5"}, out.InvalidParameters)

	names := make([]string, 11)
	for i := range names {
		names[i] = fmt.Sprintf("/n%d", i)
	}
	_, err = env.ssm.GetParameters(ctx(t), &ssm.GetParametersInput{Names: names})
	var validation *ssmtypes.ValidationException
	require.ErrorAs(t, err, &validation)
}

func TestSSMSecureString(t *testing.T) {
	env := newTestEnv(t, Options{})
	_, err := env.ssm.PutParameter(ctx(t), &ssm.PutParameterInput{
		Name: aws.String("/app/secret"), Value: aws.String("hunter2"), Type: ssmtypes.ParameterTypeSecureString,
	})
	require.NoError(t, err)

	sealed, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/app/secret")})
	require.NoError(t, err)
	assert.NotContains(t, aws.ToString(sealed.Parameter.Value), "hunter2")
	assert.NotEmpty(t, aws.ToString(sealed.Parameter.Value))
	assert.Equal(t, ssmtypes.ParameterTypeSecureString, sealed.Parameter.Type)

	opened, err := env.ssm.GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/app/secret"), WithDecryption: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "hunter2", aws.ToString(opened.Parameter.Value))

	byPath, err := env.ssm.GetParametersByPath(ctx(t), &ssm.GetParametersByPathInput{Path: aws.String("/app")})
	require.NoError(t, err)
	require.Len(t, byPath.Parameters, 1)
	assert.Equal(t, aws.ToString(sealed.Parameter.Value), aws.ToString(byPath.Parameters[0].Value))

	described, err := env.ssm.DescribeParameters(ctx(t), &ssm.DescribeParametersInput{})
	require.NoError(t, err)
	require.Len(t, described.Parameters, 1)
	assert.Equal(t, "alias/aws/ssm", aws.ToString(described.Parameters[0].KeyId))
}

func TestSSMGetParametersByPath(t *testing.T) {
	env := newTestEnv(t, Options{})
	for i := 0; i < 23; i++ {
		require.NoError(t, env.emu.PutParameter(fmt.Sprintf("/svc/p%02d", i), "v", ParameterTypeString))
	}
	require.NoError(t, env.emu.PutParameter("/svc/nested/deep", "v", ParameterTypeString))
	require.NoError(t, env.emu.PutParameter("/svc", "self", ParameterTypeString))
	require.NoError(t, env.emu.PutParameter("/svcx/other", "v", ParameterTypeString))

	collect := func(recursive bool, maxResults *int32) (names []string, pages int) {
		paginator := ssm.NewGetParametersByPathPaginator(env.ssm, &ssm.GetParametersByPathInput{
			Path: aws.String("/svc/"), Recursive: aws.Bool(recursive), MaxResults: maxResults,
		})
		for paginator.HasMorePages() {
			page, err := paginator.NextPage(ctx(t))
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Parameters), 10)
			for _, p := range page.Parameters {
				names = append(names, aws.ToString(p.Name))
			}
			pages++
		}
		return names, pages
	}

	direct, pages := collect(false, nil)
	assert.Len(t, direct, 23)
	assert.Equal(t, 3, pages)
	assert.NotContains(t, direct, "/svc/nested/deep")
	assert.NotContains(t, direct, "/svc")

	all, pages := collect(true, aws.Int32(5))
	assert.Len(t, all, 24)
	assert.Equal(t, 5, pages)
	assert.Contains(t, all, "/svc/nested/deep")
	assert.NotContains(t, all, "/svcx/other")

	_, err := env.ssm.GetParametersByPath(ctx(t), &ssm.GetParametersByPathInput{Path: aws.String("/svc"), MaxResults: aws.Int32(11)})
	var validation *ssmtypes.ValidationException
	require.ErrorAs(t, err, &validation)

	_, err = env.ssm.GetParametersByPath(ctx(t), &ssm.GetParametersByPathInput{Path: aws.String("/svc"), NextToken: aws.String("!!")})
	var badToken *ssmtypes.InvalidNextToken
	require.ErrorAs(t, err, &badToken)

	_, err = env.ssm.GetParametersByPath(ctx(t), &ssm.GetParametersByPathInput{Path: aws.String("svc")})
	require.ErrorAs(t, err, &validation)
}

func TestSSMDeleteParameters(t *testing.T) {
	env := newTestEnv(t, Options{})
	require.NoError(t, env.emu.PutParameter("/d/one", "1", ParameterTypeString))
	require.NoError(t, env.emu.PutParameter("/d/two", "2", ParameterTypeString))
	require.NoError(t, env.emu.PutParameter("/d/three", "3", ParameterTypeString))

	_, err := env.ssm.DeleteParameter(ctx(t), &ssm.DeleteParameterInput{Name: aws.String("/d/one")})
	require.NoError(t, err)
	_, err = env.ssm.DeleteParameter(ctx(t), &ssm.DeleteParameterInput{Name: aws.String("/d/one")})
	var notFound *ssmtypes.ParameterNotFound
	require.ErrorAs(t, err, &notFound)

	out, err := env.ssm.DeleteParameters(ctx(t), &ssm.DeleteParametersInput{Names: []string{"/d/two", "/d/nope", "/d/three"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"/d/two", "/d/three"}, out.DeletedParameters)
	assert.Equal(t, []string{"/d/nope"}, out.InvalidParameters)
}

func TestSSMDescribeParametersPaging(t *testing.T) {
	env := newTestEnv(t, Options{})
	for i := 0; i < 7; i++ {
		require.NoError(t, env.emu.PutParameter(fmt.Sprintf("/desc/%d", i), "v", ParameterTypeString))
	}
	env.clock.Advance(time.Minute)
	_, err := env.ssm.PutParameter(ctx(t), &ssm.PutParameterInput{
		Name: aws.String("/desc/0"), Value: aws.String("v2"), Description: aws.String("second"), Overwrite: aws.Bool(true),
	})
	require.NoError(t, err)

	var all []ssmtypes.ParameterMetadata
	paginator := ssm.NewDescribeParametersPaginator(env.ssm, &ssm.DescribeParametersInput{MaxResults: aws.Int32(3)})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx(t))
		require.NoError(t, err)
		all = append(all, page.Parameters...)
	}
	require.Len(t, all, 7)
	first := all[0]
	assert.Equal(t, "/desc/0", aws.ToString(first.Name))
	assert.Equal(t, int64(2), first.Version)
	assert.Equal(t, "second", aws.ToString(first.Description))
	assert.Equal(t, "arn:aws:iam::123456789012:user/awsemu", aws.ToString(first.LastModifiedUser))
	assert.Equal(t, env.clock.Now(), first.LastModifiedDate.UTC())
	assert.Equal(t, ssmtypes.ParameterTierStandard, first.Tier)
}
