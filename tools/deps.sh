#!/bin/sh
# deps.sh — installs the Debian packages folio's build, tests and benchmarks
# need. `deps.sh --check` only reports (exit 1) when something is missing;
# `make` and `make check` run that first and install only then. `--bench`
# adds what the benchmarks need, `--fuzz` the libFuzzer toolchain of
# `make fuzz` (`make check` replays the corpora with the normal compiler).
set -eu

BUILD="build-essential pkg-config libgit2-dev libzstd-dev libssl-dev libcjson-dev
libvips-dev libfuse3-dev fuse3 libcriterion-dev git libexpat1-dev libyaml-dev zlib1g-dev"
TEST="git-lfs rsync libvips-tools labelme-examples dataset-fashion-mnist python3 python3-torchvision chromium"
BENCH="git-annex time squashfuse squashfs-tools"
# clang only recommends its runtime, which holds libFuzzer
FUZZ="clang libclang-rt-14-dev"

want="$BUILD $TEST"
case "${1:-}" in
--bench) want="$want $BENCH" ;;
--fuzz) want="$want $FUZZ" ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "missing Debian packages:$missing" >&2
	exit 1
fi

echo "installing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
