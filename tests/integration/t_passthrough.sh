#!/bin/bash
# t_passthrough.sh — FUSE passthrough: the shim's own test (a minimal demo
# filesystem, with and without passthrough), then `folio mount -o
# passthrough` serving a version with the kernel reading object files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mountlib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "skip: passthrough needs root (CAP_SYS_ADMIN)"
	finish
	exit
fi
check "passthrough shim test" bash "$top/tests/fs/passthrough_test.sh"
grep -E 'passed|FAIL' "$T/.out" | tail -3

R=$T/repo M=$T/mnt
mkdir -p "$T/src"
head -c 5000000 /dev/urandom > "$T/src/big.bin"
cp "$LABELME"/bbox_detection/data_annotated/*.jpg "$T/src/"
python3 -c 'print("compressible\n" * 100000, end="")' > "$T/src/text.txt"
folio init "$R" >/dev/null
folio -R "$R" add "$T/src" --as ds && folio -R "$R" commit -m v1 >/dev/null && folio -R "$R" tag v1
check "mount -o passthrough" mount_repo "$R" "$M" -o passthrough
for f in big.bin 2011_000003.jpg 2011_000025.jpg text.txt; do
	check "$f reads back" cmp "$M/tags/v1/ds/$f" "$T/src/$f"
	check "$f again (a second open of the inode)" cmp "$M/tags/v1/ds/$f" "$T/src/$f"
done
exec 6< "$M/tags/v1/ds/big.bin"
check "two opens at once" cmp "$M/tags/v1/ds/big.bin" /dev/fd/6
exec 6<&-
check "HEAD works beside it" bash -c "echo x > '$M/HEAD/ds/new.txt'"
check "umount" folio umount "$M"
check "the daemon passed opens through" grep -qE 'passthrough: [1-9][0-9]* opens passed through' "$R/cache/foliofs.log"
scan_log "$R"
finish
