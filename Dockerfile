# TotalRecall: the scheduler daemon in the foreground, with /app as the base path (config, credentials,
# caches, state and logs). Build: `docker build -t totalrecall .`; see examples/compose.yaml.
#
# Two stages: the builder turns the source tree into a wheel and installs it in /opt/venv; the final image
# gets only that venv (no source tree, no wheel, no pip cache in any of its layers). The base image can be
# pinned by digest: `docker build --build-arg BASE_IMAGE=debian@sha256:<digest> .`
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS builder
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
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
        /opt/venv/bin/pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels /src; \
        /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check /wheels/*.whl; \
    fi; \
    install -D -m 0755 /src/docker/entrypoint.sh /opt/bin/totalrecall-entrypoint; \
    install -D -m 0755 /src/docker/healthcheck.sh /opt/bin/totalrecall-healthcheck

FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# Python from Debian (3.11 in bookworm) for the venv; Chromium and its driver for IMDb; tini forwards
# SIGTERM to the daemon and reaps Chromium's children; tzdata so [scheduler] timezone / $TZ resolve.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        python3 ca-certificates tzdata tini chromium chromium-driver \
    && rm -rf /var/lib/apt/lists/*

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/bin/ /usr/local/bin/
RUN /opt/venv/bin/python -c 'from totalrecall.pipeline.running import default_pipeline; assert default_pipeline().is_file()'

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
