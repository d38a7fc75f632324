package awsemu

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// apiError is a service error exactly as it goes on the wire: the code the
// SDK maps to a typed error, the human message and the HTTP status.
type apiError struct {
	code    string
	message string
	status  int
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newAPIError(status int, code, format string, args ...any) *apiError {
	return &apiError{code: code, message: fmt.Sprintf(format, args...), status: status}
}

// call is one decoded AWS API request on its way to an operation handler.
type call struct {
	ctx        context.Context
	service    *service
	operation  string
	requestID  string
	credential *sigV4Credential // nil when the request was not signed
	caller     callerIdentity   // who the credential belongs to
	body       []byte           // JSON protocol payload
	form       url.Values       // Query protocol parameters
}

// operation implements one API action. It returns the value to encode as the
// action's result (nil for actions without output) or an *apiError.
type operation func(c *call) (any, error)

// protocol encodes results and errors in a service's wire format.
type protocol interface {
	writeResult(w http.ResponseWriter, c *call, result any)
	writeError(w http.ResponseWriter, requestID string, err *apiError)
}

// jsonProtocol is awsJson1_1 as used by SSM.
type jsonProtocol struct{}

func (jsonProtocol) writeResult(w http.ResponseWriter, c *call, result any) {
	if result == nil {
		result = struct{}{}
	}
	writeJSON(w, c.requestID, http.StatusOK, result)
}

func (jsonProtocol) writeError(w http.ResponseWriter, requestID string, err *apiError) {
	writeJSON(w, requestID, err.status, struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{err.code, err.message})
}

func writeJSON(w http.ResponseWriter, requestID string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("awsemu: encoding %T: %v", v, err)) // only our own response types get here
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decodeJSON unmarshals the JSON protocol payload into in.
func (c *call) decodeJSON(in any) error {
	if len(c.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, in); err != nil {
		return newAPIError(http.StatusBadRequest, "SerializationException", "Request body could not be deserialized: %v", err)
	}
	return nil
}

// queryProtocol is awsQuery as used by IAM and STS: form-encoded requests,
// XML responses in the service's namespace.
type queryProtocol struct {
	namespace string
}

func (p queryProtocol) writeResult(w http.ResponseWriter, c *call, result any) {
	response := xml.StartElement{
		Name: xml.Name{Local: c.operation + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: p.namespace}},
	}
	p.write(w, c.requestID, http.StatusOK, func(enc *xml.Encoder) error {
		if err := enc.EncodeToken(response); err != nil {
			return err
		}
		// Actions without output answer with ResponseMetadata only, as AWS does.
		if result != nil {
			if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: c.operation + "Result"}}); err != nil {
				return err
			}
		}
		if err := enc.EncodeElement(responseMetadata{RequestID: c.requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
			return err
		}
		return enc.EncodeToken(response.End())
	})
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

func (p queryProtocol) writeError(w http.ResponseWriter, requestID string, err *apiError) {
	fault := "Sender"
	if err.status >= http.StatusInternalServerError {
		fault = "Receiver"
	}
	body := struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: p.namespace, Type: fault, Code: err.code, Message: err.message, RequestID: requestID}
	p.write(w, requestID, err.status, func(enc *xml.Encoder) error { return enc.Encode(body) })
}

func (queryProtocol) write(w http.ResponseWriter, requestID string, status int, encode func(*xml.Encoder) error) {
	var buf strings.Builder
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	if err := encode(enc); err != nil {
		panic(fmt.Sprintf("awsemu: encoding XML response: %v", err)) // only our own response types get here
	}
	if err := enc.Close(); err != nil {
		panic(fmt.Sprintf("awsemu: encoding XML response: %v", err))
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// Query protocol parameter helpers. Lists arrive as Name.member.N and
// structures inside lists as Name.member.N.Field.

func (c *call) param(name string) string { return c.form.Get(name) }

func (c *call) hasParam(name string) bool { return c.form.Has(name) }

// listParam returns Name.member.1..N in index order.
func (c *call) listParam(name string) []string {
	indexes := c.memberIndexes(name)
	values := make([]string, 0, len(indexes))
	for _, i := range indexes {
		values = append(values, c.form.Get(name+".member."+strconv.Itoa(i)))
	}
	return values
}

// structListParam returns Name.member.N.<field> maps in index order.
func (c *call) structListParam(name string, fields ...string) []map[string]string {
	indexes := c.memberIndexes(name)
	items := make([]map[string]string, 0, len(indexes))
	for _, i := range indexes {
		item := make(map[string]string, len(fields))
		prefix := name + ".member." + strconv.Itoa(i) + "."
		for _, f := range fields {
			if c.form.Has(prefix + f) {
				item[f] = c.form.Get(prefix + f)
			}
		}
		items = append(items, item)
	}
	return items
}

func (c *call) memberIndexes(name string) []int {
	prefix := name + ".member."
	seen := map[int]bool{}
	for key := range c.form {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		index, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(index); err == nil && n > 0 {
			seen[n] = true
		}
	}
	indexes := make([]int, 0, len(seen))
	for n := range seen {
		indexes = append(indexes, n)
	}
	sort.Ints(indexes)
	return indexes
}

// intParam parses an optional integer parameter; absent yields def.
func (c *call) intParam(name string, def int) (int, *apiError) {
	if !c.hasParam(name) {
		return def, nil
	}
	n, err := strconv.Atoi(c.param(name))
	if err != nil {
		return 0, newAPIError(http.StatusBadRequest, "ValidationError", "Value '%s' at '%s' failed to satisfy constraint: Member must be a number", c.param(name), lowerFirst(name))
	}
	return n, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// isoTime renders timestamps as the Query protocol's ISO 8601 date-time.
type isoTime time.Time

func (t isoTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

// epochTime renders timestamps as the JSON protocol's epoch seconds with
// millisecond precision.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	millis := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(millis)/1000, 'f', -1, 64)), nil
}

// validationMessage formats AWS's standard constraint-violation message.
func validationMessage(value any, field, constraint string) string {
	return fmt.Sprintf("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}
