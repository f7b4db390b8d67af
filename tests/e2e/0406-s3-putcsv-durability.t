#!/bin/sh
# Power loss, not only kill -9: the order of s3-putcsv's system calls, read
# with strace, shows that what the checkpoint and the spool promise reaches
# the disk first. A spool file's name is made durable (fsync of the
# directory) when it is created, and its rows (fdatasync) before more input
# is read; the checkpoint is written to a temporary file, fsynced, renamed,
# and its directory fsynced, only after S3 answered the upload.
. "$(dirname "$0")/lib.sh"

strace -f -qq -o /dev/null true 2>/dev/null ||
    skip_all "strace cannot trace here (ptrace not permitted)"
[ "${COINPIPE_VALGRIND:-0}" = 1 ] && skip_all "strace and valgrind do not nest"

: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
b=s3p-dur-$U
create_bucket "$b" || bail "create bucket $b"

row() { printf '{"_shard":"shardId-000000000000","_seq":"%s","n":%s}\n' "$1" "$1"; }
mkfifo "$T/fifo"
# LeakSanitizer cannot run under ptrace and exits 1 (make asan); the same
# paths are leak-checked untraced in 0400-0405.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -o "$T/trace" \
    -e trace=read,write,fsync,fdatasync,openat,rename,renameat,renameat2 \
    "$COINPIPE_BIN/s3-putcsv" --endpoint-url "$COINPIPE_MOTO_URL" \
    "s3://$b/dur/" --spool "$T/spool" -C "$T/cp.json" <"$T/fifo" \
    2>"$T/err" &
pid=$!
exec 3>"$T/fifo"
row 1 >&3; row 2 >&3
i=0
until [ "$(cat "$T"/spool/*.ndjson 2>/dev/null | wc -l)" -ge 2 ] || [ $i -ge 300 ]; do
	sleep 0.1; i=$((i + 1))
done
row 3 >&3
exec 3>&-
wait $pid
rc=$?
is "$rc" 0 "s3-putcsv under strace: exit 0"
[ "$rc" = 0 ] || diag "$(head -c 2000 "$T/err")"
is "$(aws_moto s3api list-objects-v2 --bucket "$b" --prefix dur/ \
    --query 'length(Contents)' --output text)" 1 "the object is in S3 (AWS CLI)"

pycheck "$T/trace" "$T" <<'PY'
import re, sys
from e2elib import *
trace, T = sys.argv[1:3]
call = re.compile(r'^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)')
fds, ev = {}, []
for line in open(trace):
    m = call.match(line)
    if not m:
        continue
    name, args, ret = m.group(1), m.group(2), int(m.group(3))
    if name == "openat" and ret >= 0:
        path = re.search(r'"([^"]*)"', args).group(1)
        fds[ret] = path
        ev.append(("open", path, "O_DIRECTORY" in args))
        continue
    fd = re.match(r'(\d+)', args)
    fd = int(fd.group(1)) if fd else None
    if name in ("rename", "renameat", "renameat2"):
        paths = re.findall(r'"([^"]*)"', args)
        ev.append(("rename", paths[0], paths[-1]))
    elif fd is not None and ret >= 0:
        ev.append((name, fds.get(fd, "fd%d" % fd) if fd else "stdin", None))

spool = [e[1] for e in ev if e[0] == "open" and e[1].endswith(".ndjson") and "/spool/" in e[1]]
check(len(spool) == 1, "one spool file", spool)
sp = spool[0] if spool else None
# the directory is opened and fsynced right after the file is created
i = next(k for k, e in enumerate(ev) if e[0] == "open" and e[1] == sp)
after = ev[i + 1:i + 4]
check(any(e[0] == "open" and e[2] and e[1].rstrip("/").endswith("spool") for e in after)
      and any(e[0] == "fsync" and e[1].rstrip("/").endswith("spool") for e in after),
      "the spool directory is fsynced once the file exists", after)
# no read of the input while rows written to the spool are not synced
dirty, bad, reads = False, 0, 0
for e in ev:
    if e[0] == "write" and e[1] == sp:
        dirty = True
    elif e[0] == "fdatasync" and e[1] == sp:
        dirty = False
    elif e[0] == "read" and e[1] == "stdin":
        reads += 1
        bad += dirty
check(reads >= 2 and bad == 0, "spooled rows are fdatasynced before more input is read",
      (reads, bad))
# the checkpoint: temporary file, fsync, rename, fsync of its directory
cp = T + "/cp.json"
r = [k for k, e in enumerate(ev) if e[0] == "rename" and e[2] == cp]
check(len(r) >= 1, "the checkpoint is renamed into place", r)
if r:
    k = r[-1]
    tmp = ev[k][1]
    before = [e for e in ev[:k] if e[1] == tmp]
    check(before and before[-1][0] == "fsync", "its temporary file is fsynced before the rename",
          before[-3:])
    nxt = ev[k + 1:k + 3]
    check(any(e[0] == "fsync" and e[1].rstrip("/") == T for e in nxt),
          "its directory is fsynced after the rename", nxt)
PY
done_testing
