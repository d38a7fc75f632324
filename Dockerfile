# syntax=docker/dockerfile:1
# The operator image: a static binary on distroless, running as a non-root user.
#   docker build -t ghcr.io/605-tv/k8s-aws-operator:v$(cat VERSION) .      (make docker-build)

FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /workspace
ENV GOTOOLCHAIN=local CGO_ENABLED=0

# Modules first, so source changes do not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

# Only what main.go imports: the API types, the controllers and the internal packages.
COPY main.go ./
COPY apis/ apis/
COPY controllers/ controllers/
COPY internal/ internal/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o /out/manager .

FROM gcr.io/distroless/static:nonroot
LABEL org.opencontainers.image.title="k8s-aws-operator" \
      org.opencontainers.image.description="Syncs AWS SSM parameters into Secrets and manages IAM roles for ServiceAccounts" \
      org.opencontainers.image.source="https://github.com/605-tv/k8s-aws-operator" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /
COPY --from=builder /out/manager /manager
COPY LICENSE /licenses/LICENSE
USER 65532:65532
ENTRYPOINT ["/manager"]
