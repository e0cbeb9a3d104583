# SPDX-License-Identifier: MIT
#
# tests/examples/lib.sh - sourced by the examples' end-to-end tests.
#
# skip_refused - the example exited 77: io_uring is refused here. Exit 77
# (meson: skipped), or 1 when COIL_TEST_REQUIRE_URING is set (CI, whose
# machine has io_uring: there a refusal is a failure, not a skip).
skip_refused() {
	if [[ -n ${COIL_TEST_REQUIRE_URING:-} ]]; then
		echo "io_uring refused, and COIL_TEST_REQUIRE_URING is set" >&2
		exit 1
	fi
	echo "skipped: io_uring is refused here"
	exit 77
}
#
# start_server OUT CMD... - run CMD in the background with its output in
# OUT and wait (5 s at most) for its "READY port=N" line. Sets $pid and
# $port. Calls skip_refused if the server exits with 77 (io_uring refused
# here); exits 1 if it dies or never gets ready.
start_server() {
	local out=$1 rc=0
	shift
	# Emptied here, not only by the redirection below: that runs in the
	# background child, and a READY line left in OUT by an earlier run
	# could be read before the child gets to it.
	: >"$out"
	"$@" >"$out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^READY port=' "$out" && break
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" || rc=$?
			((rc == 77)) && skip_refused
			echo "$1 exited early ($rc):" >&2
			cat "$out" >&2
			exit 1
		fi
		sleep 0.05
	done
	port=$(sed -n 's/^READY port=//p' "$out")
	if [[ -z $port ]]; then
		echo "$1: no READY line" >&2
		cat "$out" >&2
		exit 1
	fi
}

# wait_server OUT - $pid must exit 0 within 10 s.
wait_server() {
	local rc=0
	if ! timeout 10 tail --pid="$pid" -f /dev/null; then
		echo "the server did not exit" >&2
		exit 1
	fi
	wait "$pid" || rc=$?
	if ((rc != 0)); then
		echo "the server exited with $rc" >&2
		cat "$1" >&2
		exit 1
	fi
}

# stop_server OUT - SIGTERM $pid, then wait_server.
stop_server() {
	kill -TERM "$pid"
	wait_server "$1"
}
