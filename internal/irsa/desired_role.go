package irsa

import (
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// DesiredRole is the state Ensure converges a role onto.
type DesiredRole struct {
	Name string
	// Path and Description are applied at creation only: IAM cannot move a
	// role, and the operator never recreates one to change it.
	Path        string // empty means "/"
	Description string
	TrustPolicy string
	Boundary    string // permissions boundary policy ARN; empty means none
	Policies    []string
	Owner       Owner
	// Tags are extra tags (e.g. cost allocation) added next to the ownership
	// tags; their keys must not use the ownership prefix. Tags that are not
	// desired are left alone, since other tools may own them.
	Tags map[string]string
}

func (d DesiredRole) validate() error {
	if !isIAMName(d.Name, MaxRoleNameLength) {
		return fmt.Errorf("invalid role name %q", d.Name)
	}
	if err := ValidateRolePath(d.rolePath()); err != nil {
		return err
	}
	if _, err := canonicalPolicy(d.TrustPolicy); err != nil {
		return fmt.Errorf("trust policy: %w", err)
	}
	if !d.Owner.complete() {
		return errors.New("owner needs a cluster, a namespace and a ServiceAccount")
	}
	for key := range d.Tags {
		if isReservedTagKey(key) {
			return fmt.Errorf("tag key %q is reserved for ownership tags", key)
		}
	}
	return d.validatePolicyARNs()
}

func (d DesiredRole) validatePolicyARNs() error {
	if d.Boundary != "" {
		if err := ValidatePolicyARN(d.Boundary); err != nil {
			return fmt.Errorf("permissions boundary: %w", err)
		}
	}
	for _, policy := range d.Policies {
		if err := ValidatePolicyARN(policy); err != nil {
			return err
		}
	}
	return nil
}

func (d DesiredRole) rolePath() string {
	if d.Path == "" {
		return "/"
	}
	return d.Path
}

func (d DesiredRole) allTags() map[string]string {
	tags := maps.Clone(d.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	maps.Copy(tags, d.Owner.Tags())
	return tags
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
