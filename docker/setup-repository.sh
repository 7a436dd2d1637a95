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
# one snapshot commit, dated SOURCE_DATE_EPOCH when set: two builds of the same source
# commit then hold the same snapshot commit (and render the same letter bytes)
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    export GIT_AUTHOR_DATE="@${SOURCE_DATE_EPOCH} +0000" GIT_COMMITTER_DATE="@${SOURCE_DATE_EPOCH} +0000"
fi
# (nothing to commit when run again over a committed tree; any other failure stops the build)
if ! git rev-parse -q --verify HEAD >/dev/null || ! git diff --cached --quiet; then
    git commit -q -m "replication package: snapshot of source commit ${SOURCE_COMMIT:-unknown}"
fi
# the build arguments, for the entrypoint (an empty SOURCE_DATE_EPOCH means "unset")
printf 'SOURCE_COMMIT=%s\nSOURCE_DATE_EPOCH=%s\n' "${SOURCE_COMMIT:-unknown}" \
    "${SOURCE_DATE_EPOCH:-}" > "${BUILD_INFO:-$HOME/.build-info}"
# DVC's site cache (default /var/tmp/dvc) goes where the container user can write it
site_cache="${XDG_CACHE_HOME:-$HOME/.cache}/dvc-site"
mkdir -p "$site_cache" .dvc/cache .dvc/tmp "${MPLCONFIGDIR:-$site_cache}"
dvc config --local core.site_cache_dir "$site_cache"
# writable by whichever uid runs the container: the project (not its read-only virtual
# environment), the caches and the git configuration
find . -path ./.venv -prune -o -exec chmod a+rwX {} +
chmod -R a+rwX "${XDG_CACHE_HOME:-$HOME/.cache}" "${GIT_CONFIG_GLOBAL:-$HOME/.gitconfig}"
