# The replication package as a self-contained DVC repository (README, "Docker").
#   docker build --build-arg SOURCE_COMMIT="$(git rev-parse HEAD)" -t replicate .
#   docker run --rm replicate dvc repro
#   docker/check-image.sh builds the image and runs every command of the README against it.
#
# Base image: named by tag; where Docker Hub is reachable, pin it by digest (README,
# "Updating the pins"): FROM python:3.11.7-slim-bookworm@sha256:<digest> AS runtime
FROM python:3.11.7-slim-bookworm AS runtime

# WeasyPrint's system libraries (Pango, HarfBuzz), the fonts the letter embeds, git for
# DVC, tini as PID 1 (signals reach the pipeline). Pinned to Debian 12 (bookworm); after a
# Debian point release a pin may vanish from the archive: the build then stops here and
# says so (README, "Updating the pins").
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        git=1:2.39.5-0+deb12u3 \
        libpango-1.0-0=1.50.12+ds-1 \
        libpangoft2-1.0-0=1.50.12+ds-1 \
        libharfbuzz0b=6.0.0+dfsg-3 \
        libharfbuzz-subset0=6.0.0+dfsg-3 \
        shared-mime-info=2.2-1 \
        fonts-dejavu-core=2.37-6 \
        tini=0.19.0-1+b3 \
    || { echo "apt: installing the pinned packages failed; if a version is no longer in" \
              "the Debian archive, refresh the pins (README, 'Updating the pins')" >&2; \
         exit 100; } \
    && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log

ENV PROJECT=/home/replicate/project \
    KERAS_BACKEND=jax \
    MPLBACKEND=Agg \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPYCACHEPREFIX=/home/replicate/.cache/pycache \
    DVC_NO_ANALYTICS=1 \
    GIT_CONFIG_GLOBAL=/home/replicate/.gitconfig \
    XDG_CACHE_HOME=/home/replicate/.cache \
    MPLCONFIGDIR=/home/replicate/.cache/matplotlib

# the project directory belongs to the user (WORKDIR alone would make it root's)
RUN useradd --create-home --uid 1000 --shell /bin/bash replicate \
    && install -d -o replicate -g replicate /home/replicate/project
WORKDIR /home/replicate/project

# ---- builder: the virtual environment, made with the README's install command
FROM runtime AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils=2.40-2 \
    && rm -rf /var/lib/apt/lists/*
COPY --chown=replicate:replicate pyproject.toml requirements.lock README.md ./
COPY --chown=replicate:replicate src ./src
USER 1000:1000
# The README's install command, verbatim (tests/e2e/test_container.py checks they agree).
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.lock -e .
# What the run never needs (about 0.4 GB): the packages' own test suites, the symbol
# tables of their shared libraries (strip keeps what linking needs; not the libraries
# auditwheel vendored in *.libs/, which patchelf edited and strip would break) and the
# compiled .pyc files, which the first import in a container rebuilds under
# PYTHONPYCACHEPREFIX.
RUN find .venv/lib/python3.11/site-packages -type d -name tests -prune -exec rm -rf {} + \
    && find .venv -type f \( -name '*.so' -o -name '*.so.[0-9]*' \) -not -path '*.libs/*' \
        -exec strip --strip-unneeded {} + \
    && find .venv -type d -name __pycache__ -prune -exec rm -rf {} +

# ---- the image: environment (read-only, owned by root), project, one git commit
FROM runtime
COPY --from=builder /home/replicate/project/.venv /home/replicate/project/.venv
COPY --chown=replicate:replicate . .
ENV PATH=/home/replicate/project/.venv/bin:$PATH
# The source repository's commit and its date, recorded at build in BUILD_INFO: the
# entrypoint exports them (unless set), so the letter's provenance names the source commit
# (the image's own git holds one snapshot commit, dated SOURCE_DATE_EPOCH) and its date.
ARG SOURCE_COMMIT=unknown
ARG SOURCE_DATE_EPOCH
ENV BUILD_INFO=/home/replicate/.build-info
USER 1000:1000
# A git repository with one commit and an identity, so `dvc exp run` can commit
# experiments; safe.directory for bind mounts; the project (not the environment) and the
# caches writable by whichever uid runs the container (docker run --user ...).
RUN docker/setup-repository.sh

# tini -g: SIGTERM/SIGINT go to the whole process group (the pipeline and its stages), so
# `docker stop` and Ctrl-C stop a run at once; finished stages' outputs stay.
ENTRYPOINT ["tini", "-g", "--", "docker/entrypoint.sh"]
CMD ["dvc", "repro"]
