package irsa

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// maxDiscoveryDocumentBytes bounds how much of the discovery response is read;
// real documents are well under a kilobyte.
const maxDiscoveryDocumentBytes = 1 << 20

// CallerIdentityAPI is the part of *sts.Client that DiscoverAccount uses.
type CallerIdentityAPI interface {
	GetCallerIdentity(ctx context.Context, params *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// OIDCProviderAPI is the part of *iam.Client that ProviderExists uses.
type OIDCProviderAPI interface {
	GetOpenIDConnectProvider(ctx context.Context, params *iam.GetOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
}

var (
	_ CallerIdentityAPI = (*sts.Client)(nil)
	_ OIDCProviderAPI   = (*iam.Client)(nil)
)

// AccountInfo describes the AWS identity the operator runs as.
type AccountInfo struct {
	AccountID string
	Partition string
	CallerARN string
}

// DiscoverAccount asks STS who the operator is. The partition comes from the
// caller ARN, so the operator builds correct ARNs in aws-cn or GovCloud too.
func DiscoverAccount(ctx context.Context, client CallerIdentityAPI) (AccountInfo, error) {
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return AccountInfo{}, fmt.Errorf("get caller identity: %w", err)
	}
	callerARN := aws.ToString(out.Arn)
	parsed, err := arn.Parse(callerARN)
	if err != nil || parsed.Partition == "" {
		return AccountInfo{}, fmt.Errorf("caller ARN %q has no partition", callerARN)
	}
	account := aws.ToString(out.Account)
	if !isAccountID(account) {
		return AccountInfo{}, fmt.Errorf("caller account %q is not a 12-digit account ID", account)
	}
	return AccountInfo{AccountID: account, Partition: parsed.Partition, CallerARN: callerARN}, nil
}

// OIDCProviderARN returns the ARN IAM gives the OIDC provider for issuerURL.
func OIDCProviderARN(partition, account, issuerURL string) string {
	return "arn:" + partition + ":iam::" + account + ":oidc-provider/" + IssuerHostPath(issuerURL)
}

// IssuerFromDiscovery reads the ServiceAccount token issuer from the API
// server's OIDC discovery document. httpClient must carry the API server's
// credentials and CA (e.g. rest.HTTPClientFor); nil means http.DefaultClient.
func IssuerFromDiscovery(ctx context.Context, httpClient *http.Client, apiServerURL string) (string, error) {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	endpoint := strings.TrimSuffix(apiServerURL, "/") + "/.well-known/openid-configuration"
	document, err := fetchDiscoveryDocument(ctx, httpClient, endpoint)
	if err != nil {
		return "", err
	}
	var discovery struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(document, &discovery); err != nil {
		return "", fmt.Errorf("parse %s: %w", endpoint, err)
	}
	if discovery.Issuer == "" {
		return "", fmt.Errorf("%s has no issuer; is ServiceAccount issuer discovery enabled on the API server?", endpoint)
	}
	if err := validateIssuerURL(discovery.Issuer); err != nil {
		return "", err
	}
	return discovery.Issuer, nil
}

func fetchDiscoveryDocument(ctx context.Context, httpClient *http.Client, endpoint string) ([]byte, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("build discovery request: %w", err)
	}
	request.Header.Set("Accept", "application/json")
	response, err := httpClient.Do(request)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", endpoint, err)
	}
	defer response.Body.Close()
	switch response.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, fmt.Errorf("GET %s: %s; the operator needs the system:service-account-issuer-discovery ClusterRole", endpoint, response.Status)
	default:
		return nil, fmt.Errorf("GET %s: %s", endpoint, response.Status)
	}
	document, err := io.ReadAll(io.LimitReader(response.Body, maxDiscoveryDocumentBytes))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", endpoint, err)
	}
	return document, nil
}

// ProviderExists reports whether the IAM OIDC provider exists.
func ProviderExists(ctx context.Context, client OIDCProviderAPI, providerARN string) (bool, error) {
	_, err := client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)})
	switch {
	case err == nil:
		return true, nil
	case isNoSuchEntity(err):
		return false, nil
	default:
		return false, fmt.Errorf("get OIDC provider %s: %w", providerARN, err)
	}
}
