package ssmfetch

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// maxPageSize is the most parameters GetParametersByPath returns per call.
const maxPageSize = 10

// GetByPath returns every parameter under path (below it at any depth when
// recursive), in the order SSM lists them. Paths are not coalesced: each
// call walks all pages itself under the caller's ctx, so it does not need
// Start.
func (f *Fetcher) GetByPath(ctx context.Context, path string, recursive bool) ([]Parameter, error) {
	pages := ssm.NewGetParametersByPathPaginator(f.client, &ssm.GetParametersByPathInput{
		Path:           aws.String(path),
		Recursive:      aws.Bool(recursive),
		WithDecryption: aws.Bool(true),
		MaxResults:     aws.Int32(maxPageSize),
	}, func(o *ssm.GetParametersByPathPaginatorOptions) {
		// A repeated token would otherwise loop forever.
		o.StopOnDuplicateToken = true
	})
	var params []Parameter
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ssmfetch: GetParametersByPath %q: %w", path, err)
		}
		for _, p := range page.Parameters {
			params = append(params, toParameter(aws.ToString(p.Name), p))
		}
	}
	return params, nil
}
