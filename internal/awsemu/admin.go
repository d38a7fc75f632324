package awsemu

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// AdminPathPrefix is where the admin endpoints live. They expose the knobs
// over HTTP for the standalone emulator; bodies are JSON, durations are Go
// duration strings ("250ms"):
//
//	GET    /_emulator/health                    {"status":"ok"}
//	GET    /_emulator/calls                     [CallCount...]
//	DELETE /_emulator/calls                     reset counters and actions
//	GET    /_emulator/actions                   ["iam:CreateRole", ...]
//	PUT    /_emulator/rate-limits               {"service","operations","perSecond","burst"}
//	DELETE /_emulator/rate-limits               remove all rate limits
//	PUT    /_emulator/latency                   {"service","latency"}
//	PUT    /_emulator/faults                    {"service","internalErrorPercent","connectionResetPercent","timeoutPercent","limit"}
//	DELETE /_emulator/faults                    stop all faults
//	PUT    /_emulator/iam-eventual-consistency  {"delay"}
//	POST   /_emulator/seed                      Seed
const AdminPathPrefix = "/_emulator/"

// adminHandler routes the admin endpoints documented on AdminPathPrefix.
func (e *Emulator) adminHandler() http.Handler {
	mux := http.NewServeMux()
	p := AdminPathPrefix
	mux.HandleFunc("GET "+p+"health", func(w http.ResponseWriter, _ *http.Request) {
		writeAdminJSON(w, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET "+p+"calls", func(w http.ResponseWriter, _ *http.Request) { writeAdminJSON(w, e.Snapshot()) })
	mux.HandleFunc("DELETE "+p+"calls", func(w http.ResponseWriter, _ *http.Request) {
		e.ResetCounters()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+p+"actions", func(w http.ResponseWriter, _ *http.Request) { writeAdminJSON(w, e.Actions()) })
	mux.HandleFunc("PUT "+p+"rate-limits", adminUpdate(func(in struct {
		Service    string   `json:"service"`
		Operations []string `json:"operations"`
		PerSecond  float64  `json:"perSecond"`
		Burst      int      `json:"burst"`
	}) error {
		return e.SetRateLimit(in.Service, in.Operations, in.PerSecond, in.Burst)
	}))
	mux.HandleFunc("DELETE "+p+"rate-limits", func(w http.ResponseWriter, _ *http.Request) {
		e.ClearRateLimits()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT "+p+"latency", adminUpdate(func(in struct {
		Service string   `json:"service"`
		Latency duration `json:"latency"`
	}) error {
		return e.SetLatency(in.Service, time.Duration(in.Latency))
	}))
	mux.HandleFunc("PUT "+p+"faults", adminUpdate(func(in struct {
		Service string `json:"service"`
		Faults
	}) error {
		return e.SetFaults(in.Service, in.Faults)
	}))
	mux.HandleFunc("DELETE "+p+"faults", func(w http.ResponseWriter, _ *http.Request) {
		e.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT "+p+"iam-eventual-consistency", adminUpdate(func(in struct {
		Delay duration `json:"delay"`
	}) error {
		if in.Delay < 0 {
			return errors.New("delay must not be negative")
		}
		e.SetIAMEventualConsistency(time.Duration(in.Delay))
		return nil
	}))
	mux.HandleFunc("POST "+p+"seed", adminUpdate(e.Seed))
	return mux
}

// adminUpdate decodes a JSON body strictly and applies it; errors answer 400.
func adminUpdate[T any](apply func(T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in T
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		dec.DisallowUnknownFields()
		err := dec.Decode(&in)
		if err == nil {
			err = apply(in)
		}
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func writeAdminJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// duration is a time.Duration written as a Go duration string in JSON.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`durations are strings such as "250ms"`)
	}
	parsed, err := time.ParseDuration(s)
	*d = duration(parsed)
	return err
}
