package awsemu

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

const (
	stsNamespace          = "https://sts.amazonaws.com/doc/2011-06-15/"
	stsVersion            = "2011-06-15"
	stsMinSessionSeconds  = 900
	stsMaxSessions        = 10000
	assumeWebIdentityName = "sts:AssumeRoleWithWebIdentity"
)

// callerIdentity is what GetCallerIdentity reports for a credential.
type callerIdentity struct {
	arn     string
	userID  string
	account string
}

type stsService struct {
	env         *environment
	iam         *iamService
	resolveJWKS JWKSResolver
	caller      callerIdentity // for credentials the emulator did not issue

	mu       sync.Mutex
	sessions map[string]stsSession // by access key ID
}

type stsSession struct {
	identity callerIdentity
	expires  time.Time
}

func newSTSService(env *environment, iam *iamService, resolver JWKSResolver, caller callerIdentity) *stsService {
	return &stsService{env: env, iam: iam, resolveJWKS: resolver, caller: caller, sessions: map[string]stsSession{}}
}

func (s *stsService) describe() *service {
	return &service{
		name:     ServiceSTS,
		protocol: queryProtocol{namespace: stsNamespace},
		version:  stsVersion,
		operations: map[string]operation{
			"GetCallerIdentity":         s.getCallerIdentity,
			"AssumeRoleWithWebIdentity": s.assumeRoleWithWebIdentity,
		},
		// AWS and the SDKs call AssumeRoleWithWebIdentity without signing: the
		// token is the credential.
		unsigned: map[string]bool{"AssumeRoleWithWebIdentity": true},
		errors:   queryServiceErrors("InternalFailure"),
	}
}

// identify returns who a credential belongs to: the assumed-role session
// the emulator issued it for, or the configured caller.
func (s *stsService) identify(credential *sigV4Credential) callerIdentity {
	if credential == nil {
		return s.caller
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if session, ok := s.sessions[credential.AccessKeyID]; ok && s.env.now().Before(session.expires) {
		return session.identity
	}
	return s.caller
}

func (s *stsService) getCallerIdentity(c *call) (any, error) {
	return struct {
		Arn     string
		UserId  string
		Account string
	}{c.caller.arn, c.caller.userID, c.caller.account}, nil
}

func stsValidationError(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, "ValidationError", format, args...)
}

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

type credentialsOutput struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      isoTime
}

type assumedRoleUserOutput struct {
	Arn           string
	AssumedRoleId string
}

func (s *stsService) assumeRoleWithWebIdentity(c *call) (any, error) {
	roleARN, sessionName, token := c.param("RoleArn"), c.param("RoleSessionName"), c.param("WebIdentityToken")
	switch {
	case len(roleARN) < 20 || len(roleARN) > 2048:
		return nil, stsValidationError("%s", validationMessage(roleARN, "roleArn", "Member must have length between 20 and 2048"))
	case !sessionNamePattern.MatchString(sessionName):
		return nil, stsValidationError("%s", validationMessage(sessionName, "roleSessionName", `Member must satisfy regular expression pattern: [\w+=,.@-]*`))
	case len(token) < 4 || len(token) > 20000:
		return nil, stsValidationError("%s", validationMessage("***", "webIdentityToken", "Member must have length between 4 and 20000"))
	}
	duration, err := c.intParam("DurationSeconds", iamDefaultSessionSeconds)
	if err != nil {
		return nil, err
	}
	if duration < stsMinSessionSeconds || duration > iamMaxSessionSeconds {
		return nil, stsValidationError("%s", validationMessage(duration, "durationSeconds", "Member must have value between 900 and 43200"))
	}
	if policy := c.param("Policy"); policy != "" {
		if _, err := parsePolicy(policy, identityPolicy); err != nil {
			return nil, err
		}
	}

	identity, err := s.verifyWebIdentity(c.ctx, token)
	if err != nil {
		return nil, err
	}
	role, ok := s.iam.roleForAssume(roleARN)
	host := identity.provider.url
	request := requestContext{
		action:        assumeWebIdentityName,
		principalType: "Federated",
		principal:     identity.provider.arn,
		keys: map[string][]string{
			strings.ToLower(host + ":sub"): {identity.subject},
			strings.ToLower(host + ":aud"): {identity.audience},
		},
	}
	if !ok || !role.trust.allows(request) {
		return nil, newAPIError(http.StatusForbidden, "AccessDenied", "Not authorized to perform %s", assumeWebIdentityName)
	}
	if duration > role.maxSessionDuration {
		return nil, stsValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	now := s.env.now()
	expires := now.Add(time.Duration(duration) * time.Second)
	user := assumedRoleUserOutput{
		Arn:           "arn:" + s.env.partition + ":sts::" + s.env.accountID + ":assumed-role/" + role.name + "/" + sessionName,
		AssumedRoleId: role.id + ":" + sessionName,
	}
	credentials := credentialsOutput{
		AccessKeyId:     s.env.ids.uniqueID("ASIA")[:20],
		SecretAccessKey: s.env.ids.secret("secret", 40),
		SessionToken:    s.env.ids.secret("session", 356),
		Expiration:      isoTime(expires),
	}
	s.remember(credentials.AccessKeyId, stsSession{
		identity: callerIdentity{arn: user.Arn, userID: user.AssumedRoleId, account: s.env.accountID},
		expires:  expires,
	})
	s.iam.markUsed(role.arn, now)
	return struct {
		Credentials                 credentialsOutput
		SubjectFromWebIdentityToken string
		AssumedRoleUser             assumedRoleUserOutput
		// Provider is the IAM provider ARN, which is what STS returns for
		// providers registered in IAM.
		Provider string
		Audience string
	}{credentials, identity.subject, user, identity.provider.arn, identity.audience}, nil
}

// remember keeps a session for GetCallerIdentity, evicting expired sessions
// (or the one expiring first) so that memory stays bounded.
func (s *stsService) remember(accessKeyID string, session stsSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= stsMaxSessions {
		now := s.env.now()
		var soonest string
		for id, existing := range s.sessions {
			if !now.Before(existing.expires) {
				delete(s.sessions, id)
			} else if soonest == "" || existing.expires.Before(s.sessions[soonest].expires) {
				soonest = id
			}
		}
		if len(s.sessions) >= stsMaxSessions {
			delete(s.sessions, soonest)
		}
	}
	s.sessions[accessKeyID] = session
}
