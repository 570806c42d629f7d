#!/bin/bash
# run.sh — runs every integration test (t_*.sh) and sums the results.
set -u
cd "$(dirname "$0")"
: "${FOLIO:?set FOLIO to the folio binary}"
export FOLIO FOLIO_NO_PROGRESS=1
total_p=0 total_f=0 bad=0
for t in t_*.sh; do
	out=$(timeout 600 bash "$t" 2>&1)
	rc=$?
	echo "$out" | grep -E 'FAIL|passed' || true
	line=$(echo "$out" | grep -E '^t_.*: [0-9]+ passed, [0-9]+ failed$' | tail -1)
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed/\1/')
	total_p=$((total_p + ${p:-0}))
	total_f=$((total_f + ${f:-0}))
	if [ "$rc" -ne 0 ]; then
		bad=1
		[ -z "$line" ] && { echo "$t died (exit $rc):"; echo "$out" | tail -20; total_f=$((total_f + 1)); }
	fi
done
echo "integration: $total_p passed, $total_f failed"
exit $bad
