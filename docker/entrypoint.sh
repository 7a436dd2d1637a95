#!/usr/bin/env bash
# Run the given command in the project; then, if a host directory is mounted at
# paper/out, copy the letter, supplement, cover letter and figures there so they reach the host.
# Runs under tini -g (Dockerfile), which passes SIGTERM/SIGINT to the whole process group.
set -euo pipefail
cd "${PROJECT:-/home/replicate/project}"
# the source commit and its date recorded at image build, unless the caller set them
if [ -r "${BUILD_INFO:-}" ]; then
    while IFS='=' read -r key value; do
        case $key in
            SOURCE_COMMIT|SOURCE_DATE_EPOCH)
                if [ -n "$value" ] && [ -z "${!key:-}" ]; then export "$key=$value"; fi ;;
        esac
    done < "$BUILD_INFO"
fi
status=0
"$@" || status=$?
if [ -d paper/out ] && [ -f paper/letter.pdf ]; then
    cp paper/*.pdf paper/out/
    if [ -d paper/figures ]; then cp -r paper/figures paper/out/; fi
    echo "copied paper/*.pdf and paper/figures to the mounted paper/out" >&2
fi
exit "$status"
