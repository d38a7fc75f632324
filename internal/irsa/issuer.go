package irsa

// ValidateIssuerURL checks that an issuer URL has the https:// form IAM OIDC providers require,
// so that a configured issuer is rejected when the operator starts rather than on every role.
func ValidateIssuerURL(issuerURL string) error {
	return validateIssuerURL(issuerURL)
}
