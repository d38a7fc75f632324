package awsclient

// OpenShift's token-based auth for AWS (STS mode): OLM injects ROLEARN from the Subscription, and
// the projected ServiceAccount token is mounted at this path with audience "openshift".
const openShiftTokenFile = "/var/run/secrets/openshift/serviceaccount/token"

// UseOpenShiftSTS maps OpenShift's ROLEARN to the SDK's standard web identity variables, so the
// SDK's default credential chain assumes that role. EKS IRSA already sets AWS_ROLE_ARN itself and
// is left alone.
func UseOpenShiftSTS(getenv func(string) string, setenv func(string, string) error) {
	roleARN := getenv("ROLEARN")
	if roleARN == "" || getenv("AWS_ROLE_ARN") != "" {
		return
	}
	_ = setenv("AWS_ROLE_ARN", roleARN)
	if getenv("AWS_WEB_IDENTITY_TOKEN_FILE") == "" {
		_ = setenv("AWS_WEB_IDENTITY_TOKEN_FILE", openShiftTokenFile)
	}
}
