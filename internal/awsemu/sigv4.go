package awsemu

import (
	"errors"
	"net/http"
	"strings"
)

// sigV4Credential is the credential scope of a SigV4 Authorization header:
// Credential=AKID/20240101/us-east-1/iam/aws4_request.
type sigV4Credential struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
}

const sigV4Algorithm = "AWS4-HMAC-SHA256"

var errMissingAuthorization = errors.New("missing Authorization header")

// parseSigV4 checks that a request carries a well-formed SigV4 signature and
// returns its credential scope. The signature itself is not verified: the
// emulator has no secret keys, it only insists that clients sign.
func parseSigV4(r *http.Request) (*sigV4Credential, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return nil, errMissingAuthorization
	}
	algorithm, rest, _ := strings.Cut(header, " ")
	if algorithm != sigV4Algorithm {
		return nil, errors.New("Unsupported AWS 'algorithm': '" + algorithm + "'")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[key] = value
		}
	}
	var problems []string
	for _, required := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[required] == "" {
			problems = append(problems, "Authorization header requires '"+required+"' parameter.")
		}
	}
	if r.Header.Get("X-Amz-Date") == "" && r.Header.Get("Date") == "" {
		problems = append(problems, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, " ") + " Authorization=" + header)
	}
	if !isHex(fields["Signature"]) || len(fields["Signature"]) != 64 {
		return nil, errors.New("Signature must be 64 hexadecimal characters. Authorization=" + header)
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[0] == "" || len(scope[1]) != 8 || scope[2] == "" || scope[3] == "" || scope[4] != "aws4_request" {
		return nil, errors.New("Credential should be scoped to a valid region. Credential=" + fields["Credential"])
	}
	return &sigV4Credential{AccessKeyID: scope[0], Date: scope[1], Region: scope[2], Service: scope[3]}, nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return s != ""
}
