package awsemu

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// service describes one emulated AWS service to the dispatcher.
type service struct {
	name     string
	protocol protocol
	// version is the awsQuery API version; empty for JSON services.
	version    string
	operations map[string]operation
	// unsigned lists operations that AWS accepts without a signature.
	unsigned map[string]bool
	errors   serviceErrorCodes
}

// serviceErrorCodes are the codes a service uses for conditions the
// dispatcher detects on its behalf.
type serviceErrorCodes struct {
	throttling          string
	internal            string
	missingAuth         string
	missingAuthMessage  string
	incompleteSignature string
	wrongScope          string
	unknownOperation    string
}

func (s *service) throttlingError() *apiError {
	return newAPIError(http.StatusBadRequest, s.errors.throttling, "Rate exceeded")
}

func (s *service) internalError() *apiError {
	return newAPIError(http.StatusInternalServerError, s.errors.internal, "We encountered an internal error. Please try again.")
}

func (s *service) unknownOperationError(c *call) *apiError {
	if s.version == "" {
		return newAPIError(http.StatusBadRequest, s.errors.unknownOperation, "")
	}
	return newAPIError(http.StatusBadRequest, s.errors.unknownOperation, "Could not find operation %s for version %s", c.operation, c.param("Version"))
}

// checkSignature demands a well-formed SigV4 signature scoped to this service.
func (s *service) checkSignature(c *call, authErr error) *apiError {
	switch {
	case errors.Is(authErr, errMissingAuthorization):
		return newAPIError(http.StatusForbidden, s.errors.missingAuth, "%s", s.errors.missingAuthMessage)
	case authErr != nil:
		return newAPIError(http.StatusBadRequest, s.errors.incompleteSignature, "%s", authErr.Error())
	case c.credential.Service != s.name:
		return newAPIError(http.StatusForbidden, s.errors.wrongScope, "Credential should be scoped to correct service: '%s'. ", s.name)
	}
	return nil
}

// asAPIError turns whatever an operation returned into a wire error; a
// non-API error is a bug in the emulator and answers as the service's
// internal failure.
func (s *service) asAPIError(err error) *apiError {
	var apiErr *apiError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return s.internalError()
}

const maxRequestBytes = 1 << 20

// serve works out which service and operation a request addresses (SSM by
// X-Amz-Target, IAM and STS by the form's Action), dispatches it and counts
// the outcome.
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, AdminPathPrefix) {
		e.admin.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		http.Error(w, "reading request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	requestID := e.env.ids.requestID()
	credential, authErr := parseSigV4(r)
	c := &call{ctx: r.Context(), requestID: requestID, credential: credential, body: body}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		op, ok := strings.CutPrefix(target, "AmazonSSM.")
		if !ok {
			jsonProtocol{}.writeError(w, requestID, newAPIError(http.StatusBadRequest, "UnknownOperationException", ""))
			return
		}
		c.service, c.operation = e.services[ServiceSSM], op
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed form body: "+err.Error(), http.StatusBadRequest)
			return
		}
		for k, v := range r.URL.Query() {
			form[k] = append(form[k], v...)
		}
		c.form, c.operation = form, form.Get("Action")
		c.service = e.queryService(c)
	}
	outcome, dropConnection := e.dispatch(w, r, c, authErr)
	e.knobs.count(c.service.name, c.operation, outcome)
	if dropConnection {
		abortConnection(w)
	}
}

// queryService routes an awsQuery request to IAM or STS by the service in
// its credential scope, falling back to the action name for unsigned calls.
func (e *Emulator) queryService(c *call) *service {
	if c.credential != nil {
		if svc, ok := e.services[c.credential.Service]; ok && svc.version != "" {
			return svc
		}
	}
	if _, ok := e.services[ServiceSTS].operations[c.operation]; ok {
		return e.services[ServiceSTS]
	}
	return e.services[ServiceIAM]
}

// dispatch runs the knobs and the operation and writes the response. It
// reports the outcome to count and whether to drop the connection instead.
func (e *Emulator) dispatch(w http.ResponseWriter, r *http.Request, c *call, authErr error) (outcome string, dropConnection bool) {
	svc := c.service
	fail := func(err error) (string, bool) {
		apiErr := svc.asAPIError(err)
		svc.protocol.writeError(w, c.requestID, apiErr)
		return apiErr.code, false
	}
	op, ok := svc.operations[c.operation]
	if !ok || (svc.version != "" && c.param("Version") != svc.version) {
		return fail(svc.unknownOperationError(c))
	}
	e.knobs.recordAction(svc.name + ":" + c.operation)
	if !svc.unsigned[c.operation] {
		if err := svc.checkSignature(c, authErr); err != nil {
			return fail(err)
		}
	}
	e.wait(r.Context(), e.knobs.latency(svc.name))
	switch e.knobs.fault(svc.name) {
	case faultInternalError:
		return fail(svc.internalError())
	case faultConnectionReset:
		return OutcomeConnectionReset, true
	case faultTimeout:
		e.wait(r.Context(), -1)
		return OutcomeTimeout, true
	}
	if !e.knobs.allow(svc.name, c.operation, e.env.now()) {
		return fail(svc.throttlingError())
	}
	c.caller = e.sts.identify(c.credential)
	result, err := op(c)
	if err != nil {
		return fail(err)
	}
	svc.protocol.writeResult(w, c, result)
	return OutcomeOK, false
}

// wait blocks for d (forever when negative) or until the client gives up or
// the emulator closes.
func (e *Emulator) wait(ctx context.Context, d time.Duration) {
	if d == 0 {
		return
	}
	var expired <-chan time.Time
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case <-expired:
	case <-ctx.Done():
	case <-e.closing:
	}
}

// abortConnection drops the client connection without a response; on TCP it
// sends a reset, as an overloaded load balancer would.
func abortConnection(w http.ResponseWriter) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hijacker.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
