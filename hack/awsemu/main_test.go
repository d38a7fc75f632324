package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, config{listen: "127.0.0.1:4566", accountID: "123456789012", partition: "aws", region: "us-east-1"}, cfg)

	cfg, err = parseFlags([]string{"--listen", "[::1]:0", "--account-id", "111122223333", "--partition", "aws-us-gov", "--region", "us-gov-west-1"})
	require.NoError(t, err)
	assert.Equal(t, "111122223333", cfg.accountID)

	for _, listen := range []string{"0.0.0.0:4566", ":4566", "192.168.1.5:4566", "example.com:4566", "127.0.0.1"} {
		_, err := parseFlags([]string{"--listen", listen})
		assert.Error(t, err, listen)
	}
	_, err = parseFlags([]string{"extra"})
	assert.Error(t, err)
}

func TestRunServesSeededStateAndStopsCleanly(t *testing.T) {
	seedPath := filepath.Join(t.TempDir(), "seed.json")
	require.NoError(t, os.WriteFile(seedPath, []byte(`{"parameters":[{"name":"/demo/greeting","value":"hello"}]}`), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdoutReader, stdoutWriter := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--seed", seedPath, "--region", "eu-west-1"}, stdoutWriter)
		stdoutWriter.Close()
	}()
	line, err := bufio.NewReader(stdoutReader).ReadString('\n')
	require.NoError(t, err)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "awsemu listening on ")
	require.True(t, ok, line)
	go func() { _, _ = io.Copy(io.Discard, stdoutReader) }()

	health, err := http.Get(url + "/_emulator/health")
	require.NoError(t, err)
	health.Body.Close()
	assert.Equal(t, http.StatusOK, health.StatusCode)

	client := ssm.NewFromConfig(aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
	}, func(o *ssm.Options) { o.BaseEndpoint = aws.String(url) })
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/demo/greeting")})
	require.NoError(t, err)
	assert.Equal(t, "hello", aws.ToString(out.Parameter.Value))
	assert.Equal(t, "arn:aws:ssm:eu-west-1:123456789012:parameter/demo/greeting", aws.ToString(out.Parameter.ARN))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancellation")
	}
}

func TestRunRejectsBadSeed(t *testing.T) {
	seedPath := filepath.Join(t.TempDir(), "seed.json")
	require.NoError(t, os.WriteFile(seedPath, []byte(`{"parameters":[{"name":"aws-reserved","value":"x"}]}`), 0o600))
	err := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--seed", seedPath}, io.Discard)
	assert.ErrorContains(t, err, "seeding parameter aws-reserved")

	err = run(context.Background(), []string{"--listen", "127.0.0.1:0", "--seed", filepath.Join(t.TempDir(), "missing.json")}, io.Discard)
	assert.Error(t, err)
}
