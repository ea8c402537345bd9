#!/usr/bin/env bash
# Set up the peer benchmarks (see benchmarks/peers/README.md).
#
# Usage (from anywhere):
#   benchmarks/peers/setup.sh PUREJAXRL_SOURCE [PYTHON]
#
#   PUREJAXRL_SOURCE  a PureJaxRL working tree (folder that holds purejaxrl/ppo.py) or a git
#                     directory (bare repository, or a checkout's .git), e.g. the output of
#                     `git clone https://github.com/luchris429/purejaxrl`
#   PYTHON            interpreter for the peers' venv (default python3, needs >= 3.10)
#
# It (1) creates .venv-rejax in the repository root if it is missing and installs rejax and
# gymnax there (rejax pulls jax, flax, optax, distrax, which PureJaxRL also needs), then
# (2) exports purejaxrl/{ppo.py,ppo_continuous_action.py,wrappers.py} at the source's HEAD
# (or its working tree) into .peers/purejaxrl/ and records the commit in .peers/purejaxrl/SOURCE.
# Both folders must stay untracked: .venv-* is in .gitignore, .peers/ is added to
# .git/info/exclude (a local, uncommitted ignore list) when missing. No PureJaxRL code is
# copied into tracked files.
set -euo pipefail

src=${1:?usage: $0 PUREJAXRL_SOURCE [PYTHON]}
py=${2:-python3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

if [ ! -x .venv-rejax/bin/python ]; then
    "$py" -m venv .venv-rejax
fi
.venv-rejax/bin/pip install -q rejax gymnax

files=(purejaxrl/ppo.py purejaxrl/ppo_continuous_action.py purejaxrl/wrappers.py)
out=.peers/purejaxrl
mkdir -p "$out"
if [ -f "$src/purejaxrl/ppo.py" ]; then            # a working tree
    for f in "${files[@]}"; do cp "$src/$f" "$out/"; done
    commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
else                                               # a git directory
    for f in "${files[@]}"; do git --git-dir="$src" show "HEAD:$f" > "$out/$(basename "$f")"; done
    commit=$(git --git-dir="$src" rev-parse HEAD)
fi
echo "github.com/luchris429/purejaxrl @ $commit" > "$out/SOURCE"

exclude=.git/info/exclude
if [ -d .git ] && ! grep -qx '.peers/' "$exclude" 2>/dev/null; then
    mkdir -p .git/info && echo '.peers/' >> "$exclude"
fi
echo "peers ready: .venv-rejax ($(.venv-rejax/bin/python -c 'from importlib.metadata import version as v; print("rejax", v("rejax"), "gymnax", v("gymnax"))')), $out ($(cat "$out/SOURCE"))"
