# pgway: a static binary in a distroless image, running as a non-root user.
# Build: docker build -t pgway .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/pgway ./cmd/pgway

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pgway /usr/local/bin/pgway
USER nonroot:nonroot
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/pgway"]
CMD ["serve"]
