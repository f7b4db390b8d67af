#!/bin/sh
# kin-put waits on stdin and its calls at once: a record is sent after
# --linger while the writer keeps the pipe open (checked by boto3 before the
# writer closes it), and SIGTERM mid-stream delivers what was buffered,
# reports it, and exits 143.
. "$(dirname "$0")/lib.sh"
KP=$COINPIPE_BIN/kin-put
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"

s=kplinger-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 1 || bail "create stream $s"

count_records() {
	"${PYTHON:-python3}" - "$COINPIPE_KINESIS_URL" "$s" <<'PY'
import sys, os
sys.path.insert(0, os.environ["COINPIPE_TOP"] + "/tests/e2e")
from e2elib import *
print(len(read_all(client("kinesis", sys.argv[1]), sys.argv[2])))
PY
}
export COINPIPE_TOP

# The writer sends one line, then holds the pipe open until the record is
# in the stream (or 60 s pass), then writes a mark and closes.
mkfifo "$T/fifo"
"$KP" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" --linger 100ms -T \
    <"$T/fifo" >"$T/tee" 2>"$T/err" &
kp=$!
exec 3>"$T/fifo"
echo '{"first":1}' >&3
i=0 n=0
while [ $i -lt 120 ]; do
	n=$(count_records)
	[ "$n" = 1 ] && break
	sleep 0.5; i=$((i + 1))
done
is "$n" 1 "--linger: the record is in the stream while stdin is still open"
kill -0 $kp 2>/dev/null; ok $? "kin-put is still running, waiting on stdin"
echo '{"second":2}' >&3
exec 3>&-
wait $kp; rc=$?
is "$rc" 0 "EOF: exit 0"
is "$(grep -c '"seq"' "$T/tee")" 2 "two delivery reports"

# SIGTERM while the writer is idle and kin-put holds records it has not
# sent yet (--linger 1h): they are delivered, then exit 143. The writer
# signals only once kin-put has read the whole pipe (FIONREAD is 0), and
# keeps the pipe open until kin-put has exited.
rm -f "$T/fifo"; mkfifo "$T/fifo"
"$KP" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" --linger 1h -T \
    -d "$T/dl" <"$T/fifo" >"$T/tee2" 2>"$T/err2" &
kp=$!
"${PYTHON:-python3}" - "$T/fifo" "$kp" <<'PY' &
import fcntl, os, signal, struct, sys, termios, time
fd = os.open(sys.argv[1], os.O_WRONLY)
pid = int(sys.argv[2])
os.write(fd, b"".join(b'{"term":%d}\n' % i for i in range(1, 301)))
for _ in range(1200):
    left = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
    if left == 0:
        break
    time.sleep(0.05)
os.kill(pid, signal.SIGTERM)
while os.path.exists("/proc/%d" % pid):
    time.sleep(0.05)
os.close(fd)
PY
writer=$!
wait $kp; rc=$?
wait $writer
is "$rc" 143 "SIGTERM: exit 143"
is "$(grep -c '"seq"' "$T/tee2")" 300 "SIGTERM: the 300 buffered records were delivered and reported"
like "$(cat "$T/err2")" "kin-put: Terminated: delivering what is buffered" "SIGTERM: says it is draining"
is "$(count_records)" 302 "the stream holds all 302 records"
is "$(wc -l <"$T/dl")" 0 "nothing undelivered"

# SIGINT with nothing to deliver: 130 at once.
rm -f "$T/fifo"; mkfifo "$T/fifo"
"$KP" --endpoint-url "$COINPIPE_KINESIS_URL" -s "$s" <"$T/fifo" 2>/dev/null &
kp=$!
exec 3>"$T/fifo"
wait_catches $kp 2; ok $? "kin-put handles SIGINT (idle on stdin)"
kill -INT $kp
wait $kp; rc=$?
exec 3>&-
is "$rc" 130 "SIGINT while idle: exit 130"
aws_kin kinesis delete-stream --stream-name "$s" >/dev/null 2>&1
done_testing
