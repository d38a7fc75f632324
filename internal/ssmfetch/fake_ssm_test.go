package ssmfetch

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// fakeSSM answers like SSM from values, keyed by the name a caller would
// request, selector included ("/app/KEY", "/app/KEY:3", "/app/KEY:prod").
type fakeSSM struct {
	values map[string]string
	// failWhen fails any GetParameters call that includes the named key.
	failWhen map[string]error
	// gate, when set, holds every GetParameters call until it is closed.
	gate chan struct{}
	// latency delays every GetParameters answer, like a real round trip.
	latency time.Duration
	// pathErr fails every GetParametersByPath call.
	pathErr error

	mu        sync.Mutex
	calls     [][]string
	inputs    []ssm.GetParametersInput
	pathCalls []ssm.GetParametersByPathInput
}

func (f *fakeSSM) GetParameters(ctx context.Context, in *ssm.GetParametersInput, _ ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, slices.Clone(in.Names))
	f.inputs = append(f.inputs, *in)
	f.mu.Unlock()

	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	out := &ssm.GetParametersOutput{}
	for _, name := range in.Names {
		if err := f.failWhen[name]; err != nil {
			return nil, err
		}
		value, ok := f.values[strings.TrimPrefix(name, fakeARNPrefix)]
		if !ok {
			out.InvalidParameters = append(out.InvalidParameters, name)
			continue
		}
		out.Parameters = append(out.Parameters, fakeParameter(name, value))
	}
	return out, nil
}

// wait holds a call until the gate opens and the latency has passed.
func (f *fakeSSM) wait(ctx context.Context) error {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case <-time.After(f.latency):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// GetParametersByPath lists values under the path in name order, MaxResults
// per page, with the next index as the NextToken.
func (f *fakeSSM) GetParametersByPath(_ context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	f.mu.Lock()
	f.pathCalls = append(f.pathCalls, *in)
	f.mu.Unlock()

	if f.pathErr != nil {
		return nil, f.pathErr
	}

	names := f.namesUnder(aws.ToString(in.Path), aws.ToBool(in.Recursive))
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	end := min(start+int(aws.ToInt32(in.MaxResults)), len(names))
	out := &ssm.GetParametersByPathOutput{}
	for _, name := range names[start:end] {
		out.Parameters = append(out.Parameters, fakeParameter(name, f.values[name]))
	}
	if end < len(names) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeSSM) namesUnder(path string, recursive bool) []string {
	prefix := strings.TrimSuffix(path, "/") + "/"
	var names []string
	for name := range f.values {
		rest, ok := strings.CutPrefix(name, prefix)
		if ok && !strings.Contains(name, ":") && (recursive || !strings.Contains(rest, "/")) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

const fakeARNPrefix = "arn:aws:ssm:eu-west-1:123456789012:parameter"

// fakeParameter answers like SSM: the base name in Name (the plain name
// even when requested by ARN), any selector in Selector, and the version a
// numeric selector asked for.
func fakeParameter(requested, value string) types.Parameter {
	base, selector := splitSelector(requested)
	name := strings.TrimPrefix(base, fakeARNPrefix)
	p := types.Parameter{
		Name:    aws.String(name),
		Value:   aws.String(value),
		Type:    types.ParameterTypeSecureString,
		Version: 1,
		ARN:     aws.String(fakeARNPrefix + name),
	}
	if selector != "" {
		p.Selector = aws.String(selector)
		if version, err := strconv.ParseInt(selector[1:], 10, 64); err == nil {
			p.Version = version
		}
	}
	return p
}

func splitSelector(name string) (base, selector string) {
	i := strings.LastIndex(name, ":")
	if i < 0 || i < strings.LastIndex(name, "/") {
		return name, ""
	}
	return name[:i], name[i:]
}

func (f *fakeSSM) recordedCalls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeSSM) callSizes() []int {
	var sizes []int
	for _, names := range f.recordedCalls() {
		sizes = append(sizes, len(names))
	}
	return sizes
}
