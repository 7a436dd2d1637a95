#!/usr/bin/env bash
# Make the project a DVC-ready git repository (run once at image build, and by the
# container replay test on the CI machine with the image's environment).
set -euo pipefail
git config --global user.name "replication container"
git config --global user.email "replicate@localhost"
git config --global --add safe.directory '*'
git config --global init.defaultBranch main
if [ ! -d .git ]; then
    git init -q
fi
git add -A
git commit -q -m "replication package (container snapshot)" || true
mkdir -p "${XDG_CACHE_HOME:-$HOME/.cache}/dvc" .dvc/cache .dvc/tmp
chmod -R a+rwX . "${XDG_CACHE_HOME:-$HOME/.cache}" "${GIT_CONFIG_GLOBAL:-$HOME/.gitconfig}"
