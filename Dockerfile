# The bot as a container image: a static binary on distroless, as a non-root user, with the data
# directory as a volume and a health check. Build it where a Docker engine runs:
#   docker build -t qovery-slack-bot .
#   docker run --env-file bot.env -v qovery-bot-data:/data qovery-slack-bot
#   docker run --env-file bot.env qovery-slack-bot doctor

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo, so no libc to match), no local paths, no symbol tables. .git is in the build
# context so that the binary records its revision: `qovery-slack-bot version` and the start-up
# log's version field show it. .dockerignore leaves out no file Git tracks, or the build would
# record the tree as modified (+dirty).
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/qovery-slack-bot . \
 && install -d -m 0700 /out/data

# distroless/static: CA certificates, /etc/passwd with nonroot (65532), tzdata; no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/qovery-slack-bot /qovery-slack-bot
# An empty /data owned by nonroot: a volume created for it starts with that owner and mode.
COPY --from=build --chown=65532:65532 /out/data /data
ENV QOVERY_BOT_DATA_DIR=/data \
    QOVERY_BOT_HTTP_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# No curl in the image: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/qovery-slack-bot", "healthcheck"]
ENTRYPOINT ["/qovery-slack-bot"]
