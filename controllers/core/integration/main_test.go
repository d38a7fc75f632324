// Package integration runs the ServiceAccount IAM controller, as the operator assembles it, against
// a real kube-apiserver and the AWS emulator through the unmodified AWS SDK.
package integration

import (
	"fmt"
	"os"
	"testing"

	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

var bed *testbed.Bed

// TestMain runs the suite, then checks that every IAM and STS action the operator called during it
// is allowed by the IAM policy shipped for the operator: a new call the document lacks fails the run.
func TestMain(m *testing.M) {
	code := testbed.Main(m, &bed)
	if code == 0 && bed != nil {
		if err := checkOperatorPolicy(); err != nil {
			fmt.Fprintln(os.Stderr, "least privilege:", err)
			code = 1
		}
	}
	os.Exit(code)
}
