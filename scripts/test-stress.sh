#!/usr/bin/env bash
# The test suite under load: `make test` RUNS times (default 3) with HOGS
# busy loops (default one per core) competing for the CPU, printing each
# failure. A test that passes here only on a quiet machine is waiting on a
# moment instead of an event; see issue 11.
#
#   make test-stress                      # 3 runs of make test
#   RUNS=5 PKGS=./e2e make test-stress    # go test -race on one package, five times
#   GOFLAGS=-cpu=1 make test-stress       # tests at GOMAXPROCS=1 as well
#   HOGS=0 RUNS=5 make test-stress        # no hogs: the quiet runs
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
hogs=${HOGS:-$(nproc)}
pkgs=${PKGS:-}
export PATH="$PATH:/usr/sbin"

pids=()
stop_hogs() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_hogs EXIT
if [ "$hogs" -eq 0 ]; then
	:
elif command -v stress-ng >/dev/null 2>&1; then
	stress-ng --cpu "$hogs" --timeout 3h >/dev/null 2>&1 &
	pids+=($!)
else
	for _ in $(seq "$hogs"); do
		(while :; do :; done) &
		pids+=($!)
	done
fi
what="make test"
[ -n "${PKGS:-}" ] && what="go test -race $pkgs"
echo "test-stress: $runs runs of $what beside $hogs CPU hogs"

logdir=$(mktemp -d /tmp/headway-stress.XXXXXX)
failed=0
for i in $(seq "$runs"); do
	start=$(date +%s)
	if [ -n "${PKGS:-}" ]; then
		# shellcheck disable=SC2086
		go test -race -count=1 -timeout 30m $pkgs >"$logdir/run$i.log" 2>&1
	else
		make test >"$logdir/run$i.log" 2>&1
	fi
	rc=$?
	took=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "run $i: ok in ${took}s"
		continue
	fi
	failed=$((failed + 1))
	echo "run $i: FAILED in ${took}s (log: $logdir/run$i.log)"
	# Each failing test with the lines it printed, then each failing package.
	grep -E -A8 -- '^\s*--- FAIL' "$logdir/run$i.log" | grep -v -E '^\s+time=' | head -60
	grep -E '^(FAIL|panic:|fatal error:)' "$logdir/run$i.log"
done
echo "test-stress: $((runs - failed)) of $runs runs passed"
[ $failed -eq 0 ]
