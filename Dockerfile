# The replication package as a self-contained DVC repository.
#   docker build -t replicate .
#   docker run --name rep replicate dvc repro     (see README, "Docker")
FROM python:3.11.7-slim-bookworm

# WeasyPrint's system libraries (Pango, HarfBuzz), the fonts the letter embeds, and git
# for DVC. Versions pinned to Debian 12 (bookworm).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        git=1:2.39.5-0+deb12u3 \
        libpango-1.0-0=1.50.12+ds-1 \
        libpangoft2-1.0-0=1.50.12+ds-1 \
        libharfbuzz0b=6.0.0+dfsg-3 \
        libharfbuzz-subset0=6.0.0+dfsg-3 \
        shared-mime-info=2.2-1 \
        fonts-dejavu-core=2.37-6 \
    && rm -rf /var/lib/apt/lists/*

ENV PROJECT=/home/replicate/project \
    KERAS_BACKEND=jax \
    MPLBACKEND=Agg \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DVC_NO_ANALYTICS=1 \
    GIT_CONFIG_GLOBAL=/home/replicate/.gitconfig \
    XDG_CACHE_HOME=/home/replicate/.cache

RUN useradd --create-home --uid 1000 --shell /bin/bash replicate
WORKDIR /home/replicate/project
COPY --chown=replicate:replicate . .
USER 1000:1000

# The README's install command, verbatim (tests/e2e/test_container.py checks they agree).
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.lock -e .
ENV PATH=/home/replicate/project/.venv/bin:$PATH

# A git repository with one commit and an identity, so `dvc exp run` can commit
# experiments; safe.directory for bind mounts owned by another user; caches writable
# by whichever uid runs the container (docker run --user ...).
RUN docker/setup-repository.sh

ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["dvc", "repro"]
