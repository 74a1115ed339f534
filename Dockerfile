# Tollgate container image.
#
#   docker build -t tollgate .                      # everything inside: console, Rust, runtime
#   strip --strip-debug -o dist/tollgate target/release/tollgate
#   podman build --format docker -t tollgate --target prebuilt \
#     --build-context bin=dist --build-context console=web/dist .
#                                                   # runtime only, from host-built artifacts
#
# Mirrors: --build-arg BASE_IMAGE=… RUST_IMAGE=… NODE_IMAGE=… (any Debian bookworm based images).
# The runtime runs as the unprivileged user `tollgate` (uid 10001) and keeps the SQLite
# database and the generated master key in the volume /data. See docs/operations.md.

ARG BASE_IMAGE=debian:bookworm-slim
ARG RUST_IMAGE=rust:1-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# --- web console (web/dist) ---
FROM ${NODE_IMAGE} AS console-build
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# --- the binary ---
FROM ${RUST_IMAGE} AS rust-build
WORKDIR /src
COPY . .
# The release profile keeps line tables for backtraces; the image carries function names only.
RUN cargo build --release --locked --bin tollgate \
 && install -D -m 0755 target/release/tollgate /out/tollgate \
 && strip --strip-debug /out/tollgate

# --- what every runtime image has ---
FROM ${BASE_IMAGE} AS base
# CA certificates for HTTPS upstreams (rustls loads the system store); skipped when the base
# image already has them.
RUN if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --system --gid 10001 tollgate \
 && useradd --system --uid 10001 --gid tollgate --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin tollgate \
 && mkdir -p /data /opt/tollgate \
 && chown tollgate:tollgate /data
ENV TOLLGATE__PROXY__LISTEN=0.0.0.0:8080 \
    TOLLGATE__ADMIN__LISTEN=0.0.0.0:9090 \
    TOLLGATE__DATABASE__URL=sqlite:///data/tollgate.db \
    TOLLGATE__ADMIN__CONSOLE_DIR=/opt/tollgate/console
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080 9090
USER tollgate:tollgate
# GET /api/health on the admin port, with bash alone (no curl in the image): healthy on 200,
# which means the database answers.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${TOLLGATE_HEALTH_PORT:-9090} && printf 'GET /api/health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/tollgate"]
CMD ["serve"]

# --- runtime from artifacts built on the host (build contexts `bin` and `console`) ---
FROM base AS prebuilt
COPY --from=bin --chmod=0755 tollgate /usr/local/bin/tollgate
COPY --from=console . /opt/tollgate/console

# --- runtime built here (the default target) ---
FROM base AS runtime
COPY --from=rust-build /out/tollgate /usr/local/bin/tollgate
COPY --from=console-build /src/web/dist /opt/tollgate/console
