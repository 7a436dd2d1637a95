#!/usr/bin/env bash
# Build the image and run the README's Docker commands against it; one PASS/FAIL line per
# check, exit status 1 if any failed. Uses docker, or podman where there is none (vfs
# storage, chroot isolation; the host network only while building).
#
#   docker/check-image.sh                 # from the repository root
#   CHECK_SEEDS=2 CHECK_DEMO_SIZE=12 docker/check-image.sh
#   CHECK_SECOND_BUILD=1 docker/check-image.sh   # also rebuild without cache and compare
#   CHECK_ALLOW_DIRTY=1 docker/check-image.sh    # build uncommitted changes ("<commit>-dirty")
#
# Checks: the image size (<= 1.5 GB); the bind-mount variant as a uid that is not 1000
# (the three PDFs land in out/, owned by that uid; the run reports a clean tree); an
# experiment (`dvc exp run -S ...`) and the README's narrow `dvc exp show`, offline
# (--network none), twice: the letters' SHA-256 must agree; SIGTERM stops a running
# container within 10 s, keeping the outputs of finished stages.
set -uo pipefail
cd "$(dirname "$0")/.."
tag=${CHECK_TAG:-replicate}
seeds=${CHECK_SEEDS:-2}
demo_size=${CHECK_DEMO_SIZE:-12}
uid=${CHECK_UID:-4321}
max_bytes=$((1500 * 1000 * 1000))
project=/home/replicate/project
work=$(mktemp -d "${TMPDIR:-/tmp}/check-image.XXXXXX")
failures=0

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=(docker)
    build=(docker build)
else
    command -v podman >/dev/null || { echo "FAIL neither docker nor podman found" >&2; exit 2; }
    engine=(podman --storage-driver vfs)
    build=(podman --storage-driver vfs build --isolation chroot --network host --format docker)
fi
# podman here has no container network stack but the host's: use it where the README's
# command names no network (docker keeps its default bridge). ${net[@]+...}: an empty
# array under `set -u` is an error before bash 4.4
net=(); [ "${engine[0]}" = podman ] && net=(--network host)
# bind mounts get a private SELinux label where SELinux is enabled
label=; command -v selinuxenabled >/dev/null && selinuxenabled && label=:Z
run() {
    if [[ " $* " == *" --network "* ]]; then "${engine[@]}" run --rm "$@"
    else "${engine[@]}" run --rm ${net[@]+"${net[@]}"} "$@"; fi
}
sha256() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; }
rootless() { [ "${engine[0]}" = podman ] && [ "$(id -u)" != 0 ] && "${engine[@]}" unshare true 2>/dev/null; }
owner() {  # the uid owning a file, as the container sees it (rootless podman maps uids)
    if rootless; then "${engine[@]}" unshare stat -c %u "$1"
    else stat -c %u "$1" 2>/dev/null || stat -f %u "$1"; fi
}
check() {  # check "what" command...: PASS/FAIL line
    local what=$1; shift
    if "$@" >>"$work/log" 2>&1; then echo "PASS $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}
elapsed() { local start=$1; echo $(( $(date +%s) - start )); }
keep_logs=
cleanup() {
    "${engine[@]}" rm -f check-sigterm >/dev/null 2>&1
    [ -n "$keep_logs" ] && return
    # out/figures/ belongs to the container's uid: rootless podman removes it in its
    # namespace; otherwise say what is left
    rm -rf "$work" 2>/dev/null || { rootless && "${engine[@]}" unshare rm -rf "$work"; } \
        || echo "note: $work holds files of uid $uid that this user cannot remove" >&2
}
trap cleanup EXIT
"${engine[@]}" rm -f check-sigterm >/dev/null 2>&1  # left by an interrupted check

# ---- build (the README's command, with the source commit and its date)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
    # the image would hold changes no commit has: its letters could not name their source
    if [ -z "${CHECK_ALLOW_DIRTY:-}" ]; then
        echo "FAIL the working tree has uncommitted changes (git status): commit them, or" \
             "set CHECK_ALLOW_DIRTY=1 to build them as $commit-dirty" >&2
        exit 2
    fi
    commit="$commit-dirty"
fi
# build from the commit itself (git archive: what git tracks, as .dockerignore expects), so
# that edits to the working tree during the check (about an hour) reach neither build;
# a dirty build uses the working tree
context=.
if [ "$commit" != unknown ] && [ "${commit%-dirty}" = "$commit" ]; then
    context="$work/context" && mkdir -p "$context"
    git archive --format=tar "$commit" | tar -x -C "$context" || { echo "FAIL git archive" >&2; exit 2; }
fi
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 1700000000)
start=$(date +%s)
if "${build[@]}" --build-arg SOURCE_COMMIT="$commit" --build-arg SOURCE_DATE_EPOCH="$epoch" \
        -t "$tag" "$context" >"$work/build.log" 2>&1; then
    echo "PASS build ($(elapsed "$start") s, source commit $commit)"
else
    echo "FAIL build: last lines of the log:"; tail -20 "$work/build.log"; exit 1
fi
size=$("${engine[@]}" image inspect "$tag" --format '{{.Size}}')
size_ok() { [ "$size" -le "$max_bytes" ]; }
check "image size $((size / 1000000)) MB <= 1500 MB" size_ok
"${engine[@]}" history "$tag" --format '{{.Size}}\t{{.CreatedBy}}' | cut -c1-110 | head -12

# ---- the bind-mount variant, as a uid that is not 1000: the whole default pipeline
mkdir -p "$work/out" && chmod 777 "$work/out"
start=$(date +%s)
run --user "$uid:$uid" -v "$work/out:$project/paper/out$label" "$tag" \
    bash -c "dvc repro && cp metrics/letter.json paper/out/" >"$work/default.log" 2>&1
status=$?
echo "     default pipeline (dvc repro) as uid $uid: exit $status in $(elapsed "$start") s"
pdfs_landed() {
    for pdf in letter supplementary cover_letter; do
        [ -s "$work/out/$pdf.pdf" ] && [ "$(owner "$work/out/$pdf.pdf")" = "$uid" ] || return 1
    done
}
check "bind mount: letter, supplement and cover letter in out/, owned by uid $uid" pdfs_landed
named_commit() {  # the commit the letter's provenance names (metrics/letter.json repeats it)
    grep -o '"commit": "[0-9a-f]\{40\}' "$1" | grep -o '[0-9a-f]\{40\}'
}
clean_tree() {
    # untouched, the pipeline reproduces the committed metrics, so DVC keeps the committed
    # letter: rendered from a clean tree at the source commit or one of its ancestors
    local named; named=$(named_commit "$work/out/letter.json") || return 1
    echo "the letter names commit $named"
    grep -q '"uncommitted_changes": "no ' "$work/out/letter.json" \
        && git merge-base --is-ancestor "$named" "${commit%-dirty}"
}
check "an untouched run reports a clean tree and a commit of the source history" clean_tree

# ---- experiments offline, twice: the same letter bytes
for attempt in 1 2; do
    mkdir -p "$work/exp$attempt" && chmod 777 "$work/exp$attempt"
    start=$(date +%s)
    run --network none -v "$work/exp$attempt:$project/paper/out$label" "$tag" bash -c \
        "dvc exp run -S seeds=$seeds -S demo.size=$demo_size \
         && dvc exp show --md --drop '.*' --keep \
              'Experiment|^seeds$|^grouped\.(coulomb|von_mises|logistic|random_forest|neural_network)$' \
              > paper/out/exp-show.md && cp metrics/letter.json paper/out/" \
        >"$work/exp$attempt.log" 2>&1
    echo "     dvc exp run -S seeds=$seeds -S demo.size=$demo_size --network none (run $attempt): exit $? in $(elapsed "$start") s"
done
exp_ran() { [ -s "$work/exp1/letter.pdf" ] && grep -q "grouped.neural_network" "$work/exp1/exp-show.md"; }
check "offline (--network none): dvc exp run and the narrow dvc exp show" exp_ran
# re-rendered in the image, the letter names the source commit recorded at build
names_source() { grep -q "\"commit\": \"$commit (source, recorded at image build" "$work/exp1/letter.json"; }
check "a letter rendered in the image names the source commit" names_source
same_letter() {
    local a b
    a=$(sha256 < "$work/exp1/letter.pdf"); b=$(sha256 < "$work/exp2/letter.pdf")
    echo "letter SHA-256: $a / $b"; [ -n "$a" ] && [ "$a" = "$b" ]
}
check "two runs give the same letter bytes ($(sha256 < "$work/exp1/letter.pdf" | cut -c1-16)...)" same_letter

# ---- optionally a second build from scratch: the same snapshot commit, the same letter
if [ -n "${CHECK_SECOND_BUILD:-}" ]; then
    "${build[@]}" --no-cache --build-arg SOURCE_COMMIT="$commit" \
        --build-arg SOURCE_DATE_EPOCH="$epoch" -t "$tag-second" "$context" >"$work/build2.log" 2>&1
    mkdir -p "$work/exp3" && chmod 777 "$work/exp3"
    run --network none -v "$work/exp3:$project/paper/out$label" "$tag-second" \
        dvc exp run -S seeds="$seeds" -S demo.size="$demo_size" >"$work/exp3.log" 2>&1
    second_build() { cmp -s "$work/exp1/letter.pdf" "$work/exp3/letter.pdf"; }
    check "a second build from scratch gives the same letter bytes" second_build
fi

# ---- SIGTERM: a running container stops within 10 s and keeps finished stages' outputs
"${engine[@]}" run -d ${net[@]+"${net[@]}"} --name check-sigterm "$tag" dvc repro >/dev/null
for _ in $(seq 1 600); do
    "${engine[@]}" exec check-sigterm test -f data/features.parquet 2>/dev/null && break
    sleep 1
done
running=$("${engine[@]}" inspect check-sigterm --format '{{.State.Running}}')
start=$(date +%s)
"${engine[@]}" stop -t 10 check-sigterm >/dev/null 2>&1
stopped_in=$(elapsed "$start")
code=$("${engine[@]}" inspect check-sigterm --format '{{.State.ExitCode}}')
# the pipeline was still running when stopped, and ended on the signal itself: 143 is
# 128 + SIGTERM (137, 128 + SIGKILL, would mean the 10 s grace ran out)
stops() { [ "$running" = true ] && [ "$stopped_in" -lt 10 ] && [ "$code" = 143 ]; }
check "SIGTERM stops the running pipeline in ${stopped_in} s (running: $running, exit $code)" stops
kept() { "${engine[@]}" cp "check-sigterm:$project/data/features.parquet" "$work/kept.parquet" && [ -s "$work/kept.parquet" ]; }
check "outputs of finished stages are kept after the stop" kept

if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed; logs in $work (kept)"; keep_logs=1; exit 1
fi
echo "all checks passed"
