# pgway: a static binary in a distroless image, running as a non-root user.
# Build: docker build -t pgway .
#
# It runs as PostgREST's image does: `docker run IMAGE` serves with the PGRST_* environment alone,
# `docker run IMAGE /etc/postgrest.conf` (or `... IMAGE postgrest /etc/postgrest.conf`) with a config file, and a
# health check can run `pgway --ready` (or `postgrest --ready`). pgway's commands work too: `docker run IMAGE
# migrate up`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/bin/pgway ./cmd/pgway && \
    ln -s pgway /out/bin/postgrest && \
    mkdir -p /out/compat && ln -s /usr/local/bin/pgway /out/compat/postgrest

FROM gcr.io/distroless/static-debian12:nonroot
# pgway, and postgrest as another name of it, on PATH; /bin/postgrest is where PostgREST's image has its binary.
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /out/compat/ /bin/
USER nonroot:nonroot
EXPOSE 3000
# No CMD: without arguments pgway serves with the environment, as postgrest does.
ENTRYPOINT ["/usr/local/bin/pgway"]
