# syntax=docker/dockerfile:1
# Pulseboard's image: a static binary on distroless, running as a non-root
# user. Compose and Kubernetes files that use it are in config/deploy/;
# cmd/pulseboard/deploy_test.go checks this file's essentials.
#
#   docker build -t pulseboard:local .

# Build: a static binary, no cgo, reproducible paths. The Go version
# matches go.mod.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/pulseboard ./cmd/pulseboard

# Run: distroless static, non-root. The user is numeric (65532 is
# distroless's nonroot), so Kubernetes' runAsNonRoot can verify it. No
# shell, so the health check is the binary's own probe of /healthz.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pulseboard /pulseboard
COPY config/boards.yaml /config/boards.yaml
WORKDIR /
USER 65532:65532
ENV PULSEBOARD_ADDR=:8080
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/pulseboard", "healthcheck"]
ENTRYPOINT ["/pulseboard"]
