package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// result is one line of the table: a measured figure next to the limit it is compared with.
type result struct {
	Scenario string  `json:"scenario"`
	Name     string  `json:"name"`
	Unit     string  `json:"unit"`
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	// Ratio is Measured / Limit; absent when the limit is zero.
	Ratio *float64 `json:"ratio,omitempty"`
	// Target is what the figure must meet, e.g. "ratio <= 1.05"; empty for reference lines.
	Target string `json:"target,omitempty"`
	// TargetMet is absent for reference lines.
	TargetMet *bool  `json:"targetMet,omitempty"`
	Notes     string `json:"notes,omitempty"`
}

// target is a requirement on a result.
type target struct {
	text  string
	check func(r result) bool
}

func ratioAtMost(limit float64) target {
	return target{
		text:  "ratio <= " + strconv.FormatFloat(limit, 'f', -1, 64),
		check: func(r result) bool { return r.Ratio != nil && *r.Ratio <= limit },
	}
}

func measuredAtMost(limit float64) target {
	return target{
		text:  "<= " + strconv.FormatFloat(limit, 'f', -1, 64),
		check: func(r result) bool { return r.Measured <= limit },
	}
}

// measured builds a result, with its ratio and, when a target is given, whether it is met.
func measured(scenario, name, unit string, value, limit float64, t *target, notes string) result {
	r := result{Scenario: scenario, Name: name, Unit: unit, Measured: value, Limit: limit, Notes: notes}
	if limit != 0 {
		ratio := value / limit
		r.Ratio = &ratio
	}
	if t != nil {
		met := t.check(r)
		r.Target, r.TargetMet = t.text, &met
	}
	return r
}

func withTarget(t target) *target { return &t }

// timeUnit is the resolution durations are shown with.
const timeUnit = 100 * time.Millisecond

func inSeconds(d time.Duration) float64 { return math.Round(d.Seconds()*100) / 100 }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// summary is the JSON document: what ran, where, and the results.
type summary struct {
	Command  string   `json:"command"`
	Started  string   `json:"started"`
	Duration string   `json:"duration"`
	Machine  machine  `json:"machine"`
	Config   *config  `json:"config"`
	Results  []result `json:"results"`
	Missed   []string `json:"targetsMissed"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	MemoryMiB int    `json:"memoryMiB"`
	Go        string `json:"go"`
	OS        string `json:"os"`
}

func describeMachine() machine {
	return machine{
		CPUs:      runtime.NumCPU(),
		CPUModel:  procField("/proc/cpuinfo", "model name"),
		MemoryMiB: procKiB("/proc/meminfo", "MemTotal") / 1024,
		Go:        runtime.Version(),
		OS:        runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// procField returns the value of the first "name: value" line of a /proc file, or "".
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), ":")
		if ok && strings.TrimSpace(key) == name {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// procKiB reads a "Name:   1234 kB" field of a /proc file; 0 when absent.
func procKiB(path, name string) int {
	kib, _ := strconv.Atoi(strings.TrimSuffix(procField(path, name), " kB"))
	return kib
}

func newSummary(cfg *config, started time.Time, results []result) summary {
	s := summary{
		Command:  strings.Join(append([]string{"go run ./hack/bench"}, os.Args[1:]...), " "),
		Started:  started.UTC().Format(time.RFC3339),
		Duration: time.Since(started).Round(time.Second).String(),
		Machine:  describeMachine(),
		Config:   cfg,
		Results:  results,
		Missed:   []string{},
	}
	for _, r := range results {
		if r.TargetMet != nil && !*r.TargetMet {
			s.Missed = append(s.Missed, r.Scenario+" "+r.Name)
		}
	}
	return s
}

// printTable writes the results as an aligned table.
func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tfigure\tmeasured\tlimit\tratio\ttarget\tmet\tnotes")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.Name,
			number(r.Measured, r.Unit), number(r.Limit, r.Unit), ratioText(r.Ratio), r.Target, metText(r.TargetMet), r.Notes)
	}
	_ = tw.Flush()
}

func number(v float64, unit string) string {
	text := strconv.FormatFloat(v, 'f', -1, 64)
	if v != float64(int64(v)) {
		text = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if unit == "" {
		return text
	}
	return text + " " + unit
}

func ratioText(r *float64) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatFloat(*r, 'f', 3, 64)
}

func metText(met *bool) string {
	switch {
	case met == nil:
		return ""
	case *met:
		return "yes"
	default:
		return "MISSED"
	}
}

// writeSummary prints the JSON summary and saves it to path.
func writeSummary(w io.Writer, path string, s summary) error {
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false) // "<=" stays readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	if _, err := w.Write(data.Bytes()); err != nil {
		return err
	}
	return os.WriteFile(path, data.Bytes(), 0o644)
}
