package ssmfetch

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// maxBatchSize is the most names GetParameters accepts in one call.
const maxBatchSize = 10

// fetchBatch makes one GetParameters call and answers every key in it.
// It runs under the Start ctx rather than any caller's, because the batch
// serves several callers and must not die with one of them.
func (f *Fetcher) fetchBatch(ctx context.Context, keys []string) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.CallTimeout)
	defer cancel()
	out, err := f.client.GetParameters(ctx, &ssm.GetParametersInput{
		Names:          keys,
		WithDecryption: aws.Bool(true),
	})
	if err != nil {
		// Only the count goes into the message; the SDK error never carries values.
		f.settle(keys, nil, fmt.Errorf("ssmfetch: GetParameters for %d names: %w", len(keys), err))
		return
	}
	f.settle(keys, matchRequested(keys, out.Parameters), nil)
}

// settle answers keys: found ones with their parameter, the rest as not
// found, or all of them with err; it then reports kept answers that changed.
func (f *Fetcher) settle(keys []string, found map[string]Parameter, err error) {
	f.mu.Lock()
	var changed []string
	for _, key := range keys {
		param, ok := found[key]
		f.settleLocked(key, param, ok, err)
		if f.rememberLocked(key, param, ok, err) {
			changed = append(changed, key)
		}
	}
	f.mu.Unlock()
	// Kept keys have new due times: let the dispatcher plan with them.
	f.nudge()
	if f.opts.OnChange != nil {
		for _, key := range changed {
			f.opts.OnChange(key)
		}
	}
}

// matchRequested keys each returned parameter by the name it was requested
// as. SSM answers "/app/KEY:3" with Name "/app/KEY" and Selector ":3" (no
// Selector for a plain name), and a name requested as an ARN is matched
// through the ARN. Requested keys left unmatched are not found, whether SSM
// listed them in InvalidParameters or not.
func matchRequested(keys []string, params []types.Parameter) map[string]Parameter {
	requested := make(map[string]bool, len(keys))
	for _, key := range keys {
		requested[key] = true
	}
	found := make(map[string]Parameter, len(params))
	for _, p := range params {
		selector := aws.ToString(p.Selector)
		for _, key := range []string{aws.ToString(p.Name) + selector, aws.ToString(p.ARN) + selector} {
			if requested[key] {
				found[key] = toParameter(key, p)
			}
		}
	}
	return found
}
