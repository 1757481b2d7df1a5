# syntax=docker/dockerfile:1
# Build: a static binary, no cgo, reproducible paths.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/pulseboard ./cmd/pulseboard

# Run: distroless static, non-root. No shell, so the health check is the
# binary's own probe of /healthz.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pulseboard /pulseboard
COPY config/ /config/
WORKDIR /
USER nonroot:nonroot
ENV PULSEBOARD_ADDR=:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/pulseboard", "healthcheck"]
ENTRYPOINT ["/pulseboard"]
