#!/usr/bin/env bash
# Every GPU figure of the README on a lent GPU machine, in one call of at most 10 minutes
# (benchmarks/gpu.py: `benchmarks/run_all.py --gpu` within 9 minutes, set-up included).
#
# 1. Here, on a machine that reaches PyPI, once (a lent GPU machine reaches no network):
#        bash benchmarks/gpu_command.sh prepare
#    downloads into .whl/ the Python 3.12 wheels that the GPU machine's image lacks (its
#    python3 has jax 0.11 with CUDA 13, flax, optax, chex, numpy, matplotlib, rich, six,
#    pyyaml): gymnax, gymnasium and farama-notifications for jaxrl (.whl/jaxrl); rejax,
#    distrax, tfp-nightly, dm-tree, gast and decorator for the rejax peer (.whl/rejax);
#    and copies ../shared/peers/rejax_bench.py into .peers/ (beside .peers/purejaxrl,
#    where benchmarks/peers/setup.sh made it: PureJaxRL's peer). Both are ignored through
#    .git/info/exclude; the peer is optional: without .whl/rejax the table says
#    "rejax not installed" and the rest runs.
# 2. On the GPU machine, one command, carrying both folders (the device tool:
#    command "bash benchmarks/gpu_command.sh", carry [".whl", ".peers"], timeout_s 600):
#        bash benchmarks/gpu_command.sh
#    It installs the wheels under /tmp, checks that jaxrl imports and sees the GPU, runs
#    `python3 benchmarks/run_all.py --gpu` with what is left of 540 s (options of
#    run_all.py --gpu may follow: `bash benchmarks/gpu_command.sh --only dqn`), and
#    leaves in $OUT:
#    gpu-results.tar (benchmarks/results/<device>.json and benchmarks/results/<device>/,
#    rewritten after every step, so a run cut short still brings back what it measured),
#    <device>.json and gpu.log.
# 3. Back here, in the repository root:
#        tar xf <the folder $OUT came back to>/gpu-results.tar
#        .venv/bin/python benchmarks/run_all.py --gpu --report-only
#    writes the README's GPU table from that JSON; commit the JSON, its folder and README.md.
#
# On a GPU machine that reaches PyPI and has no JAX, make a venv instead of the wheels:
#    python3 -m venv .venv-gpu && .venv-gpu/bin/pip install -e . 'jax[cuda13]>=0.10.2'
#    (jax[cuda12] for a CUDA 12 driver), then
#    PYTHON=.venv-gpu/bin/python bash benchmarks/gpu_command.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
root=$PWD
py=${PYTHON:-python3}

prepare() {
    set -e
    local pip=python3
    [ -x .venv/bin/python ] && pip=.venv/bin/python
    local get=("$pip" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12
               --implementation cp --platform manylinux_2_28_x86_64
               --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
               --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
    rm -rf .whl && mkdir -p .whl/jaxrl .whl/rejax .peers
    "${get[@]}" -d .whl/jaxrl gymnax==1.0.1 gymnasium==1.3.0 farama-notifications==0.0.6
    "${get[@]}" -d .whl/rejax rejax==0.1.3 distrax==0.1.9 tfp-nightly dm-tree==0.1.10 \
        gast==0.7.0 decorator==5.3.2
    if [ -f ../shared/peers/rejax_bench.py ]; then
        cp ../shared/peers/rejax_bench.py .peers/
    else
        echo "no ../shared/peers/rejax_bench.py: rejax will not run"; rm -rf .whl/rejax
    fi
    mkdir -p .git/info
    for d in .whl/ .peers/; do
        grep -qx "$d" .git/info/exclude 2>/dev/null || echo "$d" >> .git/info/exclude
    done
    du -sh .whl .peers
    echo "ready: run 'bash benchmarks/gpu_command.sh' on the GPU machine, carrying .whl and .peers"
}

run() {
    local out=${OUT:-/tmp/jaxrl-gpu} site=/tmp/jaxrl-site
    mkdir -p "$out"
    export PYTHONUNBUFFERED=1
    # the scripts and a peer's process share the GPU: neither takes 75 % of its memory
    export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-.4}
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    if compgen -G ".whl/jaxrl/*.whl" >/dev/null; then
        "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target "$site" .whl/jaxrl/*.whl || return 1
        export PYTHONPATH=$site
    fi
    export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
    if ! "$py" -c "import jax, flax, optax, gymnax, jaxrl
print('jax', jax.__version__, 'flax', flax.__version__, 'optax', optax.__version__, jax.devices())"
    then
        echo "jaxrl does not import here (above): the GPU figures are not rerun"
        echo "(bash benchmarks/gpu_command.sh prepare, then carry .whl and .peers)"
        return 1
    fi
    if compgen -G ".whl/rejax/*.whl" >/dev/null && [ -f .peers/rejax_bench.py ]; then
        "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/rejax-site .whl/rejax/*.whl
        printf '#!/bin/sh\nPYTHONPATH=/tmp/rejax-site:%s exec %s "$@"\n' \
            "$PYTHONPATH" "$(command -v "$py")" > /tmp/rejax-python
        chmod +x /tmp/rejax-python
        if /tmp/rejax-python -c "import rejax, distrax"; then
            export REJAX_PYTHON=/tmp/rejax-python REJAX_BENCH=$root/.peers/rejax_bench.py
            [ -d .peers/purejaxrl ] && export PUREJAXRL_DIR=$root/.peers/purejaxrl
        else
            echo "rejax does not import (above): the figures run without it"
        fi
    fi
    local budget=$((540 - SECONDS))
    echo "set-up took ${SECONDS} s; run_all.py --gpu gets ${budget} s"
    "$py" benchmarks/run_all.py --gpu --budget-s "$budget" --bundle "$out/gpu-results.tar" "$@"
    local code=$?
    local merged
    merged=$(ls -t benchmarks/results/*.json | xargs grep -l '"benchmark": "run_all --gpu"' |
             head -1)
    [ -n "$merged" ] && cp "$merged" "$out/"
    ls -l "$out"
    return $code
}

if [ "${1:-}" = prepare ]; then
    prepare
else
    mkdir -p "${OUT:-/tmp/jaxrl-gpu}"
    run "$@" 2>&1 | tee "${OUT:-/tmp/jaxrl-gpu}/gpu.log"
    exit "${PIPESTATUS[0]}"
fi
