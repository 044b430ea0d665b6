# Keyward: build with the Rust toolchain, run on a slim Debian as a non-root user.
FROM rust:1-slim-bookworm AS builder
# perl and make build the bundled OpenSSL that the bundled libpq (PostgreSQL) links statically.
RUN apt-get update && apt-get install -y --no-install-recommends perl make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# .cargo/config.toml sets how the bundled SQLite is compiled (see bench/README.md).
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
COPY migrations-postgres ./migrations-postgres
RUN cargo build --release --locked --bin keyward

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/keyward keyward \
    && mkdir -p /var/lib/keyward/data \
    && chown -R keyward:keyward /var/lib/keyward
COPY --from=builder /src/target/release/keyward /usr/local/bin/keyward
USER keyward
WORKDIR /var/lib/keyward
ENV KEYWARD_BIND=0.0.0.0:61016 \
    KEYWARD_DB=/var/lib/keyward/data/keyward.db \
    KEYWARD_LOG_FORMAT=text
VOLUME ["/var/lib/keyward/data"]
EXPOSE 61016
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["keyward", "healthcheck"]
ENTRYPOINT ["keyward"]
CMD ["serve"]
