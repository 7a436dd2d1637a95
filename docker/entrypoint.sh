#!/usr/bin/env bash
# Run the given command in the project; then, if a host directory is mounted at
# paper/out, copy the letter, supplement, cover letter and figures there so they reach the host.
set -euo pipefail
cd "${PROJECT:-/home/replicate/project}"
status=0
"$@" || status=$?
if [ -d paper/out ] && [ -f paper/letter.pdf ]; then
    cp paper/*.pdf paper/out/
    if [ -d paper/figures ]; then cp -r paper/figures paper/out/; fi
    echo "copied paper/*.pdf and paper/figures to the mounted paper/out" >&2
fi
exit "$status"
