package ssmfetch

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetByPathWalksAllPages(t *testing.T) {
	direct := pathNames("/app/svc/K", 13)
	nested := pathNames("/app/svc/nested/N", 10)
	values := valuesFor(slices.Concat(direct, nested, []string{"/other/X", "/app/svcX"}))

	tests := []struct {
		name       string
		recursive  bool
		want       []string
		wantTokens []*string
	}{
		{
			name:       "recursive",
			recursive:  true,
			want:       slices.Concat(direct, nested),
			wantTokens: []*string{nil, aws.String("10"), aws.String("20")},
		},
		{
			name:       "direct children only",
			recursive:  false,
			want:       direct,
			wantTokens: []*string{nil, aws.String("10")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSSM{values: values}
			// Paths need no dispatcher, so Start is not run.
			f := New(fake, Options{})

			params, err := f.GetByPath(context.Background(), "/app/svc", tt.recursive)

			require.NoError(t, err)
			var got []string
			for _, p := range params {
				got = append(got, p.Name)
				assert.Equal(t, "secret-of-"+p.Name, p.Value)
			}
			assert.ElementsMatch(t, tt.want, got)
			var tokens []*string
			for _, in := range fake.pathCalls {
				tokens = append(tokens, in.NextToken)
				assert.Equal(t, "/app/svc", aws.ToString(in.Path))
				assert.Equal(t, tt.recursive, aws.ToBool(in.Recursive))
				assert.True(t, aws.ToBool(in.WithDecryption), "WithDecryption")
				assert.Equal(t, int32(10), aws.ToInt32(in.MaxResults))
			}
			assert.Equal(t, tt.wantTokens, tokens)
		})
	}
}

func TestGetByPathWrapsErrors(t *testing.T) {
	fake := &fakeSSM{pathErr: &types.ParameterNotFound{Message: aws.String("nope")}}
	f := New(fake, Options{})

	_, err := f.GetByPath(context.Background(), "/app/svc", true)

	var notFound *types.ParameterNotFound
	require.ErrorAs(t, err, &notFound)
	assert.Contains(t, err.Error(), "/app/svc")
}
