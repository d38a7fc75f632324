package awsemu

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

const (
	oidcMaxClientIDs   = 100
	oidcMaxThumbprints = 5
)

type oidcProvider struct {
	url         string // issuer without scheme or trailing slash, as IAM shows it
	arn         string
	clientIDs   []string
	thumbprints []string
	created     time.Time
	tags        []iamTag
}

var thumbprintPattern = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// issuerHost reduces an issuer URL to IAM's form of it: the URL without
// https:// and without a trailing slash. It also names condition keys
// (<issuerHost>:sub, <issuerHost>:aud).
func issuerHost(issuer string) string {
	return strings.TrimSuffix(strings.TrimPrefix(issuer, "https://"), "/")
}

type oidcProviderInput struct {
	url         string
	clientIDs   []string
	thumbprints []string
	tags        []iamTag
}

func (s *iamService) createOpenIDConnectProvider(c *call) (any, error) {
	tags, err := tagsParam(c)
	if err != nil {
		return nil, err
	}
	p, err := s.addOIDCProvider(oidcProviderInput{
		url:         c.param("Url"),
		clientIDs:   c.listParam("ClientIDList"),
		thumbprints: c.listParam("ThumbprintList"),
		tags:        tags,
	})
	if err != nil {
		return nil, err
	}
	return struct {
		OpenIDConnectProviderArn string
		Tags                     []iamTag `xml:"Tags>member"`
	}{p.arn, p.tags}, nil
}

// addOIDCProvider registers an OIDC identity provider; it backs
// CreateOpenIDConnectProvider and seeding.
func (s *iamService) addOIDCProvider(in oidcProviderInput) (*oidcProvider, *apiError) {
	if len(in.url) < 1 || len(in.url) > 255 || !strings.HasPrefix(in.url, "https://") || issuerHost(in.url) == "" ||
		strings.ContainsAny(in.url, "?#") {
		return nil, iamValidationError("The URL %q is not a valid https URL of an OpenID Connect issuer.", in.url)
	}
	if len(in.clientIDs) > oidcMaxClientIDs {
		return nil, limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", oidcMaxClientIDs)
	}
	for _, id := range in.clientIDs {
		if len(id) < 1 || len(id) > 255 {
			return nil, iamValidationError("%s", validationMessage(id, "clientIDList", "Member must have length between 1 and 255"))
		}
	}
	if len(in.thumbprints) > oidcMaxThumbprints {
		return nil, limitExceeded("Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: %d", oidcMaxThumbprints)
	}
	for _, t := range in.thumbprints {
		if !thumbprintPattern.MatchString(t) {
			return nil, iamValidationError("%s", validationMessage(t, "thumbprintList", "Member must have length greater than or equal to 40"))
		}
	}
	host := issuerHost(in.url)
	arn := "arn:" + s.env.partition + ":iam::" + s.env.accountID + ":oidc-provider/" + host
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oidcProviders[arn] != nil {
		return nil, newAPIError(http.StatusConflict, "EntityAlreadyExists", "Provider with url https://%s already exists.", host)
	}
	p := &oidcProvider{
		url:         host,
		arn:         arn,
		clientIDs:   dedupe(in.clientIDs),
		thumbprints: in.thumbprints,
		created:     s.env.now(),
		tags:        in.tags,
	}
	s.oidcProviders[arn] = p
	return p, nil
}

func (s *iamService) oidcProvider(arn string) (*oidcProvider, *apiError) {
	if p := s.oidcProviders[arn]; p != nil {
		return p, nil
	}
	return nil, noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
}

func (s *iamService) getOpenIDConnectProvider(c *call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.oidcProvider(c.param("OpenIDConnectProviderArn"))
	if err != nil {
		return nil, err
	}
	return struct {
		Url            string
		ClientIDList   []string `xml:"ClientIDList>member"`
		ThumbprintList []string `xml:"ThumbprintList>member"`
		CreateDate     isoTime
		Tags           []iamTag `xml:"Tags>member"`
	}{p.url, p.clientIDs, p.thumbprints, isoTime(p.created), p.tags}, nil
}

func (s *iamService) listOpenIDConnectProviders(*call) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	type entry struct{ Arn string }
	entries := make([]entry, 0, len(s.oidcProviders))
	for arn := range s.oidcProviders {
		entries = append(entries, entry{arn})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Arn < entries[j].Arn })
	return struct {
		OpenIDConnectProviderList []entry `xml:"OpenIDConnectProviderList>member"`
	}{entries}, nil
}

func (s *iamService) deleteOpenIDConnectProvider(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.oidcProvider(c.param("OpenIDConnectProviderArn"))
	if err != nil {
		return nil, err
	}
	delete(s.oidcProviders, p.arn)
	return nil, nil
}

// providerForIssuer returns a copy of the provider registered for a token
// issuer.
func (s *iamService) providerForIssuer(issuer string) (oidcProvider, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range s.oidcProviders {
		if p.url == issuerHost(issuer) {
			return *p, true
		}
	}
	return oidcProvider{}, false
}

// CreateOIDCProvider registers an OpenID Connect identity provider directly,
// for seeding, and returns its ARN. url must start with https://.
func (e *Emulator) CreateOIDCProvider(url string, clientIDs []string) (string, error) {
	p, err := e.iam.addOIDCProvider(oidcProviderInput{url: url, clientIDs: clientIDs})
	if err != nil {
		return "", err
	}
	return p.arn, nil
}
