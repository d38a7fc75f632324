package irsa

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

var errInjected = errors.New("injected failure")

// fakeRole is the fake's stored state of one role.
type fakeRole struct {
	path     string
	trust    string
	boundary string
	tags     map[string]string
	attached []string
	created  time.Time
}

// fakeIAM is a map-backed IAM that records every call by name. failAt makes
// the failAt-th call (1-based) return errInjected, either before applying it
// (a failed request) or, with failAfterApply, after (a lost response).
// intercept runs before each call and can return a specific error instead.
type fakeIAM struct {
	mu             sync.Mutex
	account        string
	now            time.Time
	pageSize       int
	roles          map[string]*fakeRole
	calls          []string
	failAt         int
	failAfterApply bool
	intercept      func(call string) error
}

var _ IAMRoleAPI = (*fakeIAM)(nil)

func newFakeIAM() *fakeIAM {
	return &fakeIAM{
		account:  testAccount,
		now:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		pageSize: 2,
		roles:    map[string]*fakeRole{},
	}
}

// managerFor returns a RoleManager whose clock agrees with the fake's.
func managerFor(f *fakeIAM) *RoleManager {
	m := NewRoleManager(f)
	m.now = func() time.Time { return f.now }
	return m
}

func (f *fakeIAM) writeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var writes []string
	for _, call := range f.calls {
		if !strings.HasPrefix(call, "Get") && !strings.HasPrefix(call, "List") {
			writes = append(writes, call)
		}
	}
	return writes
}

func (f *fakeIAM) resetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
	f.failAt = 0
	f.intercept = nil
}

func (f *fakeIAM) role(name string) (*fakeRole, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roles[name]
	return r, ok
}

func fakeCall[T any](f *fakeIAM, name string, apply func() (*T, error)) (*T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	if f.intercept != nil {
		if err := f.intercept(name); err != nil {
			return nil, err
		}
	}
	injected := len(f.calls) == f.failAt
	if injected && !f.failAfterApply {
		return nil, errInjected
	}
	out, err := apply()
	if injected {
		return nil, errInjected
	}
	return out, err
}

func (f *fakeIAM) existing(name *string) (*fakeRole, error) {
	r, ok := f.roles[aws.ToString(name)]
	if !ok {
		return nil, &types.NoSuchEntityException{Message: aws.String("The role with name " + aws.ToString(name) + " cannot be found.")}
	}
	return r, nil
}

func (f *fakeIAM) arn(name string, r *fakeRole) string {
	return "arn:aws:iam::" + f.account + ":role" + r.path + name
}

func (f *fakeIAM) apiRole(name string, r *fakeRole) *types.Role {
	role := &types.Role{
		Arn:      aws.String(f.arn(name, r)),
		RoleName: aws.String(name),
		Path:     aws.String(r.path),
		// IAM returns the trust policy URL-encoded.
		AssumeRolePolicyDocument: aws.String(url.QueryEscape(r.trust)),
		CreateDate:               aws.Time(r.created),
		Tags:                     tagList(r.tags),
	}
	if r.boundary != "" {
		role.PermissionsBoundary = &types.AttachedPermissionsBoundary{
			PermissionsBoundaryArn:  aws.String(r.boundary),
			PermissionsBoundaryType: types.PermissionsBoundaryAttachmentTypePolicy,
		}
	}
	return role
}

func (f *fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return fakeCall(f, "GetRole", func() (*iam.GetRoleOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		return &iam.GetRoleOutput{Role: f.apiRole(*in.RoleName, r)}, nil
	})
}

func (f *fakeIAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	return fakeCall(f, "CreateRole", func() (*iam.CreateRoleOutput, error) {
		name := aws.ToString(in.RoleName)
		if _, ok := f.roles[name]; ok {
			return nil, &types.EntityAlreadyExistsException{Message: aws.String("Role with name " + name + " already exists.")}
		}
		r := &fakeRole{
			path:     aws.ToString(in.Path),
			trust:    aws.ToString(in.AssumeRolePolicyDocument),
			boundary: aws.ToString(in.PermissionsBoundary),
			tags:     map[string]string{},
			created:  f.now,
		}
		for _, tag := range in.Tags {
			r.tags[*tag.Key] = *tag.Value
		}
		f.roles[name] = r
		return &iam.CreateRoleOutput{Role: f.apiRole(name, r)}, nil
	})
}

func (f *fakeIAM) DeleteRole(_ context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	return fakeCall(f, "DeleteRole", func() (*iam.DeleteRoleOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		if len(r.attached) > 0 {
			return nil, &types.DeleteConflictException{Message: aws.String("Cannot delete entity, must detach all policies first.")}
		}
		delete(f.roles, *in.RoleName)
		return &iam.DeleteRoleOutput{}, nil
	})
}

func (f *fakeIAM) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	return fakeCall(f, "UpdateAssumeRolePolicy", func() (*iam.UpdateAssumeRolePolicyOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		r.trust = aws.ToString(in.PolicyDocument)
		return &iam.UpdateAssumeRolePolicyOutput{}, nil
	})
}

func (f *fakeIAM) AttachRolePolicy(_ context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	return fakeCall(f, "AttachRolePolicy", func() (*iam.AttachRolePolicyOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		if policy := aws.ToString(in.PolicyArn); !slices.Contains(r.attached, policy) {
			r.attached = append(r.attached, policy)
		}
		return &iam.AttachRolePolicyOutput{}, nil
	})
}

func (f *fakeIAM) DetachRolePolicy(_ context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	return fakeCall(f, "DetachRolePolicy", func() (*iam.DetachRolePolicyOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		i := slices.Index(r.attached, aws.ToString(in.PolicyArn))
		if i < 0 {
			return nil, &types.NoSuchEntityException{Message: aws.String("Policy is not attached to role.")}
		}
		r.attached = slices.Delete(r.attached, i, i+1)
		return &iam.DetachRolePolicyOutput{}, nil
	})
}

// ListAttachedRolePolicies pages pageSize policies at a time, using the
// index of the next policy as the marker, so the SDK paginator is exercised.
func (f *fakeIAM) ListAttachedRolePolicies(_ context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	return fakeCall(f, "ListAttachedRolePolicies", func() (*iam.ListAttachedRolePoliciesOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		start, _ := strconv.Atoi(aws.ToString(in.Marker))
		end := min(start+f.pageSize, len(r.attached))
		out := &iam.ListAttachedRolePoliciesOutput{IsTruncated: end < len(r.attached)}
		for _, policy := range r.attached[start:end] {
			out.AttachedPolicies = append(out.AttachedPolicies, types.AttachedPolicy{PolicyArn: aws.String(policy)})
		}
		if out.IsTruncated {
			out.Marker = aws.String(strconv.Itoa(end))
		}
		return out, nil
	})
}

func (f *fakeIAM) PutRolePermissionsBoundary(_ context.Context, in *iam.PutRolePermissionsBoundaryInput, _ ...func(*iam.Options)) (*iam.PutRolePermissionsBoundaryOutput, error) {
	return fakeCall(f, "PutRolePermissionsBoundary", func() (*iam.PutRolePermissionsBoundaryOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		r.boundary = aws.ToString(in.PermissionsBoundary)
		return &iam.PutRolePermissionsBoundaryOutput{}, nil
	})
}

func (f *fakeIAM) DeleteRolePermissionsBoundary(_ context.Context, in *iam.DeleteRolePermissionsBoundaryInput, _ ...func(*iam.Options)) (*iam.DeleteRolePermissionsBoundaryOutput, error) {
	return fakeCall(f, "DeleteRolePermissionsBoundary", func() (*iam.DeleteRolePermissionsBoundaryOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		r.boundary = ""
		return &iam.DeleteRolePermissionsBoundaryOutput{}, nil
	})
}

func (f *fakeIAM) TagRole(_ context.Context, in *iam.TagRoleInput, _ ...func(*iam.Options)) (*iam.TagRoleOutput, error) {
	return fakeCall(f, "TagRole", func() (*iam.TagRoleOutput, error) {
		r, err := f.existing(in.RoleName)
		if err != nil {
			return nil, err
		}
		for _, tag := range in.Tags {
			r.tags[*tag.Key] = *tag.Value
		}
		return &iam.TagRoleOutput{}, nil
	})
}

// seed stores a role exactly as Ensure would create it for d, created an hour
// ago, and returns it for the test to introduce drift.
func (f *fakeIAM) seed(d DesiredRole) *fakeRole {
	r := &fakeRole{
		path:     d.rolePath(),
		trust:    d.TrustPolicy,
		boundary: d.Boundary,
		tags:     d.allTags(),
		attached: slices.Clone(d.Policies),
		created:  f.now.Add(-time.Hour),
	}
	f.roles[d.Name] = r
	return r
}

// roleSnapshot is the part of a role's state Ensure is responsible for.
type roleSnapshot struct {
	Path     string
	Trust    string
	Boundary string
	Tags     map[string]string
	Attached []string
}

func (f *fakeIAM) snapshot(name string) (roleSnapshot, bool) {
	r, ok := f.role(name)
	if !ok {
		return roleSnapshot{}, false
	}
	return roleSnapshot{
		Path:     r.path,
		Trust:    mustCanonical(r.trust),
		Boundary: r.boundary,
		Tags:     maps.Clone(r.tags),
		Attached: slices.Sorted(slices.Values(r.attached)),
	}, true
}

func wantSnapshot(d DesiredRole) roleSnapshot {
	return roleSnapshot{
		Path:     d.rolePath(),
		Trust:    mustCanonical(d.TrustPolicy),
		Boundary: d.Boundary,
		Tags:     d.allTags(),
		Attached: slices.Sorted(slices.Values(d.Policies)),
	}
}

// mustCanonical lets snapshots compare trust policies by meaning.
func mustCanonical(document string) string {
	canonical, err := canonicalPolicy(document)
	if err != nil {
		panic(err)
	}
	return canonical
}
