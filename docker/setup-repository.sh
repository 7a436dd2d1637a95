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
# DVC's site cache (default /var/tmp/dvc) goes where the container user can write it
site_cache="${XDG_CACHE_HOME:-$HOME/.cache}/dvc-site"
mkdir -p "$site_cache" .dvc/cache .dvc/tmp
dvc config --local core.site_cache_dir "$site_cache"
chmod -R a+rwX . "${XDG_CACHE_HOME:-$HOME/.cache}" "${GIT_CONFIG_GLOBAL:-$HOME/.gitconfig}"
