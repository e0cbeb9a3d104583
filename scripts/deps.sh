#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/deps.sh - install the Debian 12 packages that coil needs to build,
# test and benchmark. Idempotent: prints nothing when everything is there.
#
# Usage: scripts/deps.sh [--required | --all | --cross-aarch64]
#   --required  only what building and testing needs (scripts/test.sh, CI)
#   --cross-aarch64  what scripts/cross-test.sh needs to build coil for
#               aarch64 and run its tests under qemu-user: meson, ninja,
#               pkg-config, python3, the cross compiler, qemu-user, and
#               cmocka and liburing for arm64
#               (this adds arm64 as a dpkg foreign architecture)
#   --all       also the optional tools the benchmarks use when present:
#               linux-perf (system call and instruction counts), strace
#               (the system call count where perf cannot), gnuplot-nox
#               (bench/run's chart), golang-go (the Go channel baseline of
#               bench/queue), wrk and nginx (bench/http_server's load
#               generator and baseline); the default
#
# As root it runs apt-get itself (apt-get update only when the install fails
# without it). Otherwise it prints the sudo command to run for the required
# packages (on stdout) and exits 1; missing optional ones get a line of
# their own on stderr, apart, since one that cannot be installed must not
# stop the required ones. Optional packages are reported, never fatal.
# Set COIL_SKIP_DEPS=1 to skip this script entirely (non-Debian systems,
# hand-built toolchains).
set -euo pipefail

prog=deps.sh

# "a|b" means either package will do: the first is installed when neither is.
# g++: CI compiles the public headers as C++ (what C++ users include).
required=(
	'build-essential|gcc' g++ libc6-dev meson ninja-build pkg-config
	liburing-dev libcmocka-dev valgrind python3 libuv1-dev
	libhttp-parser-dev libcurl4-openssl-dev
)
optional=(linux-perf strace gnuplot-nox golang-go python3-aiohttp openssl wrk
	nginx)
# The build tools too: cross-test.sh runs on its own, and nothing below
# pulls in meson, ninja, pkg-config (the cross file's) or python3.
cross_aarch64=(meson ninja-build pkg-config python3 gcc-aarch64-linux-gnu
	qemu-user libc6-dev:arm64 libcmocka-dev:arm64 liburing-dev:arm64)

usage() {
	echo "usage: scripts/deps.sh [--required | --all | --cross-aarch64]" >&2
	exit "${1:-2}"
}

# is_installed PKG - true when dpkg knows PKG as installed.
is_installed() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) ||
		return 1
	[[ $status == ii* ]]
}

# missing_of LIST... - print, space-separated, the entries not installed.
missing_of() {
	local entry alt found alts out=()
	for entry in "$@"; do
		found=
		IFS='|' read -r -a alts <<<"$entry"
		for alt in "${alts[@]}"; do
			if is_installed "$alt"; then
				found=1
				break
			fi
		done
		[[ -n $found ]] || out+=("${alts[0]}")
	done
	echo "${out[*]}"
}

updated=
log=

# apt_install PKG... - install quietly; on failure refresh the package lists
# once and retry. apt's output goes to a log shown only when it fails.
apt_install() {
	local cmd=(apt-get install -y -qq -o DPkg::Lock::Timeout=300
		--no-install-recommends "$@")
	if DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >>"$log" 2>&1; then
		return 0
	fi
	if [[ -z $updated ]]; then
		updated=1
		if ! apt-get update -qq >>"$log" 2>&1; then
			return 1
		fi
		DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >>"$log" 2>&1
		return
	fi
	return 1
}

main() {
	local mode=all
	case "${1:-}" in
	'' | --all) mode=all ;;
	--required) mode=required ;;
	--cross-aarch64) mode=cross ;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
	[[ $# -le 1 ]] || usage

	[[ ${COIL_SKIP_DEPS:-0} == 1 ]] && return 0
	local need=("${required[@]}")
	[[ $mode == cross ]] && need=("${cross_aarch64[@]}")
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "$prog: not a Debian system; make sure these are installed:" \
			"${need[*]//|/ or }" >&2
		return 0
	fi

	local req opt
	req=$(missing_of "${need[@]}")
	opt=
	[[ $mode == all ]] && opt=$(missing_of "${optional[@]}")
	[[ -z $req && -z $opt ]] && return 0

	if [[ $(id -u) -ne 0 ]]; then
		if [[ -n $req ]]; then
			echo "$prog: missing packages; as root, run:" >&2
			[[ $mode == cross ]] &&
				echo "sudo dpkg --add-architecture arm64 &&" \
					"sudo apt-get update"
			echo "sudo apt-get install -y $req"
		fi
		[[ -z $opt ]] ||
			echo "$prog: optional, for the benchmarks:" \
				"sudo apt-get install -y $opt" >&2
		[[ -z $req ]]
		return
	fi

	log=$(mktemp "${TMPDIR:-/tmp}/coil-deps.XXXXXX")
	# shellcheck disable=SC2064 # expand $log now
	trap "rm -f '$log'" EXIT

	# The arm64 packages need arm64 known to dpkg; apt_install then fails
	# once for want of their lists and refreshes them itself.
	if [[ $mode == cross ]] &&
		! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
	fi
	if [[ -n $req ]]; then
		echo "$prog: installing $req" >&2
		# shellcheck disable=SC2086 # word splitting intended
		if ! apt_install $req; then
			cat "$log" >&2
			echo "$prog: could not install: $req" >&2
			return 1
		fi
	fi
	if [[ -n $opt ]]; then
		echo "$prog: installing optional $opt" >&2
		local p
		# shellcheck disable=SC2086 # word splitting intended
		apt_install $opt || for p in $opt; do
			apt_install "$p" ||
				echo "$prog: optional $p not available; skipped" >&2
		done
	fi
	return 0
}

main "$@"
