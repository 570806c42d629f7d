#!/bin/bash
# t_uring.sh — FUSE over io_uring (`folio mount -o uring`): with the fuse
# module's enable_uring on, every kind of request goes through the per-CPU
# queues and reads back the same bytes (many parallel readers included),
# alone and with -o passthrough; with it off, the same mount falls back to /dev/fuse and says so.
# The queue threads wait at SCHED_IDLE unless uring_sched=normal, and go
# back to normal priority when busy processes starve them. With no mode
# named the daemon picks passthrough,uring when the kernel offers io_uring
# and plain /dev/fuse when it does not. The parameter is put back as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mountlib.sh"

P=/sys/module/fuse/parameters/enable_uring
if [ ! -w "$P" ]; then
	echo "skip: $P is missing or not writable (FUSE over io_uring needs Linux 6.14+ and root)"
	finish
	exit
fi
was=$(cat "$P")
cleanup_hooks+=("echo '$was' > '$P'")

R=$T/repo M=$T/mnt
mkdir -p "$T/src/sub/deeper"
head -c 3000000 /dev/urandom > "$T/src/big.bin"
cp "$LABELME"/bbox_detection/data_annotated/*.jpg "$T/src/"
python3 -c 'print("compressible\n" * 100000, end="")' > "$T/src/text.txt"
for i in $(seq 1 200); do echo "label $i" > "$T/src/sub/deeper/l$i.txt"; done
ln -s big.bin "$T/src/link"
folio init "$R" >/dev/null
folio -R "$R" add "$T/src" --as ds && folio -R "$R" commit -m v1 >/dev/null && folio -R "$R" tag v1

echo Y > "$P"
check "mount -o uring" mount_repo "$R" "$M" -o uring
check "the daemon uses the queues" grep -q 'io_uring: requests go through per-CPU io_uring queues' "$R/cache/foliofs.log"
# the daemon's pid, from its "mounted" log line
daemon_pid() { grep -o 'foliofs\[[0-9]*\] mounted' "$1" | tail -1 | grep -o '[0-9][0-9]*'; }
idle_threads() { ps -L -o cls= -p "$1" | grep -c IDL; }
# PID LOG: its queue threads are at SCHED_IDLE -- or, on a machine whose
# cores other work keeps busy, the watchdog has already seen them starve
# and put them back to normal priority (and said so in LOG).
idle_or_promoted() {
	[ "$(idle_threads "$1")" -ge 1 ] ||
		grep -qE 'uring: queue thread [0-9]+ waited [0-9]+ ms for a CPU' "$2"
}
check "its queue threads wait at SCHED_IDLE" grep -q 'queues (their threads wait at SCHED_IDLE)' "$R/cache/foliofs.log"
pid=$(daemon_pid "$R/cache/foliofs.log")
check "ps shows them at SCHED_IDLE" idle_or_promoted "$pid" "$R/cache/foliofs.log"
V=$M/tags/v1/ds
for f in big.bin 2011_000003.jpg 2011_000025.jpg text.txt sub/deeper/l7.txt; do
	check "$f reads back" cmp "$V/$f" "$T/src/$f"
done
check_eq "a listing" "$(ls "$V/sub/deeper" | wc -l)" 200
check_eq "stat" "$(stat -c %s "$V/big.bin")" 3000000
check_eq "readlink" "$(readlink "$V/link")" big.bin
check_eq "find" "$(find "$M/tags/v1/" -type f | wc -l)" "$(find "$T/src" -type f | wc -l)"
check_eq "a view" "$(find "$M/tags/v1/@where/size=gt:0/" -type f | wc -l)" "$(ls "$T"/src/*.jpg | wc -l)"
check_exit 1 "a write is refused (EROFS)" bash -c "echo x > '$V/new.txt'"
# many readers at once, checksummed
( cd "$T/src" && find . -type f -print0 | xargs -0 sha256sum | sort -k2 ) > "$T/want"
check "16 parallel readers" bash -c "cd '$V' && find . -type f -print0 | xargs -0 -P 16 -n 8 sha256sum | sort -k2 > '$T/got'"
check "they read the same bytes" cmp "$T/got" "$T/want"
check "HEAD works beside it" bash -c "echo x > '$M/HEAD/ds/new.txt' && '$FOLIO' -R '$R' status | grep -q new.txt"
check "umount" folio umount "$M"
check "requests were served through the queues" grep -qE 'io_uring: [1-9][0-9]* requests served' "$R/cache/foliofs.log"
scan_log "$R"

# Both at once: opens go through the queues and name the object file as
# the backing file, so the kernel reads the store itself.
: > "$R/cache/foliofs.log"
check "mount -o passthrough,uring" mount_repo "$R" "$M" -o passthrough,uring
check "the daemon uses the queues with passthrough" grep -q 'io_uring: requests go through per-CPU io_uring queues' "$R/cache/foliofs.log"
check "16 parallel readers with passthrough" bash -c "cd '$V' && find . -type f -print0 | xargs -0 -P 16 -n 8 sha256sum | sort -k2 > '$T/got2'"
check "they read the same bytes with passthrough" cmp "$T/got2" "$T/want"
check "umount" folio umount "$M"
check "requests were served through the queues with passthrough" grep -qE 'io_uring: [1-9][0-9]* requests served' "$R/cache/foliofs.log"
check "opens were passed through" grep -qE 'passthrough: [1-9][0-9]* opens passed through, 0 plain' "$R/cache/foliofs.log"
scan_log "$R"

# uring_sched=normal: no thread at SCHED_IDLE.
: > "$R/cache/foliofs.log"
check "mount -o uring,uring_sched=normal" mount_repo "$R" "$M" -o uring,uring_sched=normal
check "the log does not say SCHED_IDLE" bash -c "grep -q 'per-CPU io_uring queues\$' '$R/cache/foliofs.log'"
pid=$(daemon_pid "$R/cache/foliofs.log")
check_eq "no thread at SCHED_IDLE" "$(idle_threads "$pid")" 0
check "reads with uring_sched=normal" cmp "$V/big.bin" "$T/src/big.bin"
check "umount" folio umount "$M"
scan_log "$R"

# Starvation: a daemon in the foreground shares the test's session (so its
# scheduling group) with busy loops on every CPU. Its SCHED_IDLE queue
# threads would wait for a CPU as long as the loops run; the watchdog must
# see it and put them back to normal priority, and every read completes.
mkdir -p "$M"
cleanup_hooks+=("force_unmount '$M'")
"$FOLIO" mount -f -o uring "$R" "$M" 2>"$T/fg.log" &
check "a foreground mount -o uring" mount_ready "$M"
pid=$(daemon_pid "$T/fg.log")
check "its queue threads start at SCHED_IDLE" idle_or_promoted "$pid" "$T/fg.log"
hogs=()
for i in $(seq 1 $((2 * $(nproc)))); do (while :; do :; done) & hogs+=($!); done
cleanup_hooks+=("kill ${hogs[*]} 2>/dev/null")
check "16 parallel readers while every CPU is busy" timeout 300 bash -c "cd '$V' && find . -type f -print0 | xargs -0 -P 16 -n 8 sha256sum | sort -k2 > '$T/got3'"
check "they read the same bytes" cmp "$T/got3" "$T/want"
check "the watchdog saw the starved queue threads" wait_until grep -qE 'uring: queue thread [0-9]+ waited [0-9]+ ms for a CPU.*run at normal priority' "$T/fg.log"
kill "${hogs[@]}" 2>/dev/null
check_eq "no thread is left at SCHED_IDLE" "$(idle_threads "$pid")" 0
check "umount" folio umount "$M"
wait
check "the foreground daemon stopped cleanly" grep -q 'stopped' "$T/fg.log"

# No mode named: with io_uring offered, the daemon takes it, and
# passthrough with it (the tests run as root).
: > "$R/cache/foliofs.log"
check "mount with no mode" mount_repo "$R" "$M"
check "it chose passthrough,uring" grep -q 'mode: passthrough,uring, chosen at INIT' "$R/cache/foliofs.log"
check "16 parallel readers in the chosen mode" bash -c "cd '$V' && find . -type f -print0 | xargs -0 -P 16 -n 8 sha256sum | sort -k2 > '$T/got4'"
check "they read the same bytes in the chosen mode" cmp "$T/got4" "$T/want"
check "umount" folio umount "$M"
check "opens were passed through in the chosen mode" grep -qE 'passthrough: [1-9][0-9]* opens passed through, 0 plain' "$R/cache/foliofs.log"
check "requests went through the queues in the chosen mode" grep -qE 'io_uring: [1-9][0-9]* requests served' "$R/cache/foliofs.log"
scan_log "$R"

# With the parameter off the kernel does not offer it: plain /dev/fuse.
echo N > "$P"
: > "$R/cache/foliofs.log"
check "mount -o uring with enable_uring off" mount_repo "$R" "$M" -o uring
check "says why it is not used" grep -q 'did not offer it' "$R/cache/foliofs.log"
check "reads still work" cmp "$V/big.bin" "$T/src/big.bin"
check "umount" folio umount "$M"
check "no request went through a queue" grep -q 'io_uring: 0 requests served' "$R/cache/foliofs.log"
scan_log "$R"
: > "$R/cache/foliofs.log"
check "mount with no mode, io_uring off" mount_repo "$R" "$M"
check "it chose plain /dev/fuse and says why" grep -q 'mode: plain /dev/fuse, chosen at INIT (the kernel did not offer io_uring' "$R/cache/foliofs.log"
check "reads in plain mode" cmp "$V/big.bin" "$T/src/big.bin"
check "umount" folio umount "$M"
check "no open was passed through" bash -c "! grep -q 'opens passed through' '$R/cache/foliofs.log'"
scan_log "$R"
finish
