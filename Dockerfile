# TotalRecall: the scheduler daemon in the foreground, with /app as the base path (config, credentials,
# caches, state and logs). Build: `docker build -t totalrecall .`; see examples/compose.yaml.
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive
# Python from Debian (3.11 in bookworm) in a venv; Chromium and its driver for IMDb; tini forwards
# SIGTERM to the daemon and reaps Chromium's children; tzdata so [scheduler] timezone / $TZ resolve.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        python3 python3-venv ca-certificates tzdata tini chromium chromium-driver \
    && rm -rf /var/lib/apt/lists/*

RUN python3 -m venv /opt/venv
COPY pyproject.toml setup.cfg README.md /src/
COPY totalrecall /src/totalrecall
# totalrecall/pipeline/default.yaml and pipeline.schema.json are links into these two folders.
COPY pipelines /src/pipelines
COPY schemas /src/schemas
COPY docker /src/docker
# From PyPI; or, where a build has no PyPI access (CI behind a proxy), from wheels put in docker/wheels/.
RUN set -e; \
    if ls /src/docker/wheels/*.whl >/dev/null 2>&1; then \
        /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-index \
            --find-links /src/docker/wheels totalrecall; \
    else \
        /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check /src; \
    fi; \
    /opt/venv/bin/python -c 'from totalrecall.cli import default_pipeline; assert default_pipeline().is_file()'; \
    install -m 0755 /src/docker/entrypoint.sh /usr/local/bin/totalrecall-entrypoint; \
    install -m 0755 /src/docker/healthcheck.sh /usr/local/bin/totalrecall-healthcheck; \
    rm -rf /src

# A fixed numeric uid, so a host folder mounted at /app can be made writable for it (chown 10001).
RUN groupadd --gid 10001 totalrecall \
    && useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin totalrecall \
    && mkdir -p /app \
    && chown 10001:10001 /app

ENV PATH=/opt/venv/bin:$PATH \
    TOTALRECALL_BASE_PATH=/app \
    HOME=/app \
    PYTHONUNBUFFERED=1
WORKDIR /app
VOLUME ["/app"]
USER 10001:10001

HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["/usr/local/bin/totalrecall-healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/totalrecall-entrypoint"]
CMD []
