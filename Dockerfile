# syntax=docker/dockerfile:1
#
# Image of the confluence-kafka binary: every subcommand (crawl, index, serve,
# simulate, ...) runs from it, configured by environment variables.
#
# Not built here: these machines have no Docker engine. The compose test
# (cmd/confluence-kafka/compose_test.go) checks that GO_VERSION matches go.mod.

# GO_VERSION follows the go directive of go.mod.
ARG GO_VERSION=1.26.8

# The build stage runs on the builder's own platform and cross-compiles, so a
# multi-platform build needs no emulation.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src

# Modules get their own layer, reused until go.mod or go.sum changes.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# CGO_ENABLED=0 gives a static binary: the SQLite driver is pure Go.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false -ldflags="-s -w" \
      -o /out/confluence-kafka ./cmd/confluence-kafka \
 && mkdir -p /out/state

# distroless/static has CA certificates and time zone data and nothing else:
# no shell, no package manager. Its nonroot user is uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/confluence-kafka /usr/local/bin/confluence-kafka
# The working directory holds the search index (default data/index.db). It
# belongs to the nonroot user, and a new named volume mounted here copies
# that ownership.
COPY --from=build --chown=65532:65532 /out/state /var/lib/confluence-kafka
WORKDIR /var/lib/confluence-kafka
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/confluence-kafka"]
CMD ["help"]
