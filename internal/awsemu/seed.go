package awsemu

import (
	"encoding/json"
	"fmt"
	"io"
)

// Seed is state to create before clients arrive, as read from a seed file:
//
//	{
//	  "parameters": [{"name": "/app/db/host", "value": "db.local", "type": "String"}],
//	  "policies": [{"name": "AppRead", "path": "/app/", "document": {"Version": "2012-10-17", "Statement": [...]}}],
//	  "oidcProviders": [{"url": "https://127.0.0.1:6443", "clientIDs": ["sts.amazonaws.com"]}]
//	}
type Seed struct {
	Parameters    []SeedParameter    `json:"parameters"`
	Policies      []SeedPolicy       `json:"policies"`
	OIDCProviders []SeedOIDCProvider `json:"oidcProviders"`
}

// SeedParameter is an SSM parameter; Type defaults to String.
type SeedParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Type  string `json:"type"`
}

// SeedPolicy is a customer managed IAM policy; Path defaults to "/".
// Document is the policy as a JSON object or as a string holding one.
type SeedPolicy struct {
	Name        string          `json:"name"`
	Path        string          `json:"path"`
	Description string          `json:"description"`
	Document    json.RawMessage `json:"document"`
}

// SeedOIDCProvider is an IAM OpenID Connect identity provider.
type SeedOIDCProvider struct {
	URL         string   `json:"url"`
	ClientIDs   []string `json:"clientIDs"`
	Thumbprints []string `json:"thumbprints"`
}

// LoadSeed decodes a seed document, rejecting unknown fields so that typos
// do not go unnoticed.
func LoadSeed(r io.Reader) (Seed, error) {
	var seed Seed
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return Seed{}, fmt.Errorf("decoding seed: %w", err)
	}
	return seed, nil
}

// Seed creates everything in s, with the same validation as the APIs.
func (e *Emulator) Seed(s Seed) error {
	for _, p := range s.Parameters {
		typ := p.Type
		if typ == "" {
			typ = ParameterTypeString
		}
		if err := e.PutParameter(p.Name, p.Value, typ); err != nil {
			return fmt.Errorf("seeding parameter %s: %w", p.Name, err)
		}
	}
	for _, p := range s.Policies {
		document := string(p.Document)
		var quoted string
		if json.Unmarshal(p.Document, &quoted) == nil {
			document = quoted
		}
		path := p.Path
		if path == "" {
			path = "/"
		}
		if _, err := e.iam.addPolicy(createPolicyInput{name: p.Name, path: path, document: document, description: p.Description}); err != nil {
			return fmt.Errorf("seeding policy %s: %w", p.Name, err)
		}
	}
	for _, p := range s.OIDCProviders {
		if _, err := e.iam.addOIDCProvider(oidcProviderInput{url: p.URL, clientIDs: p.ClientIDs, thumbprints: p.Thumbprints}); err != nil {
			return fmt.Errorf("seeding OIDC provider %s: %w", p.URL, err)
		}
	}
	return nil
}
