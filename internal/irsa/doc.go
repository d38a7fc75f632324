// Package irsa holds the IAM side of IAM Roles for Service Accounts (IRSA):
// parsing a ServiceAccount's policy annotation, naming its role, building the
// web-identity trust policy, enforcing guardrails, and converging the role in
// IAM. It has no Kubernetes dependencies; the controller feeds it plain values
// and turns its results into Events and conditions.
//
// Typical use by a controller:
//
//	arns, err := irsa.ParsePolicyARNs(sa.Annotations["attachedPolicies"], guardrails.MaxPolicies)
//	allowed, refused := guardrails.Check(arns)
//	trust, err := irsa.TrustPolicy(providerARN, issuerURL, sa.Namespace, sa.Name)
//	result, err := manager.Ensure(ctx, irsa.DesiredRole{
//		Name:        irsa.RoleName(cluster, sa.Namespace, sa.Name),
//		TrustPolicy: trust,
//		Boundary:    guardrails.PermissionsBoundary,
//		Policies:    allowed,
//		Owner:       irsa.Owner{Cluster: cluster, Namespace: sa.Namespace, ServiceAccount: sa.Name},
//	})
//
// Error handling contract for callers:
//   - errors.Is(err, ErrRolePropagating): IAM has not finished propagating a
//     role created moments ago; requeue after a few seconds and do not report
//     it as a user error.
//   - errors.As(err, new(*RoleConflictError)): the role name is taken by a role
//     this operator does not own; nothing was changed. Report it and do not
//     retry quickly, it will not fix itself.
//   - *InvalidPolicyError / *TooManyPoliciesError: the annotation is wrong;
//     report it to the ServiceAccount owner.
//   - anything else wraps the AWS SDK error (errors.As into the SDK's types
//     works); the SDK has already retried throttling and transient faults.
package irsa
