#!/bin/sh
# The whole pipeline survives SIGKILL: about 20,000 price records from the
# replay server go through
#
#   gecko-fetch | kin-put                       (4-shard stream)
#   kin-get --follow --format meta --resume st.json |
#       s3-putcsv --checkpoint st.json          (moto, SigV4 checked)
#
# while stages are killed with SIGKILL at ten random moments and each broken
# pipeline is started again with the same command lines. Afterwards boto3
# reads every record in the stream and every row of every CSV object: each
# record that reached Kinesis is in the CSV at least once, with its fields
# unchanged, and no row comes from anywhere else. Prints the duplicates.
#
# Killing a stage breaks its pipe, so its partner ends too (kin-put and
# s3-putcsv at the end of their input, gecko-fetch and kin-get at their next
# write, or with SIGKILL after 4 seconds, as a supervisor would). A killed
# producer loses what was in the pipe and in kin-put, which never reached
# the stream; the restarted gecko-fetch polls afresh. A producer run that
# ends by itself is started again, as cron would, until 20,000 records were
# delivered. The schedule comes from COINPIPE_CRASH_SEED (printed), so a
# failure can be replayed.
. "$(dirname "$0")/lib.sh"
# Not under valgrind: 20,000 records at memcheck's 20-50x slowdown, and the
# 4 s grace before a stage that should end is SIGKILLed assumes full speed
# (a slow stage would be killed, not crash-tested). Every stage here is
# covered by its own end-to-end tests under valgrind.
[ "${COINPIPE_VALGRIND:-}" = 1 ] &&
    skip_all "tests/run --valgrind: 20,000 records and SIGKILL restarts are a full-speed test"

B=$COINPIPE_BIN
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
export AWS_ENDPOINT_URL_KINESIS="$COINPIPE_KINESIS_URL"
export AWS_ENDPOINT_URL_S3="$COINPIPE_MOTO_URL"
s=crash-$U
b=crash-$U
create_stream "$COINPIPE_KINESIS_URL" "$s" 4 || bail "create stream $s"
create_bucket "$b" || bail "create bucket $b"

# 990 coins (the generated ones the replay server prices: every 97th has a
# null price) in two currencies: 1980 records a poll, 4 polls a run, at a
# pace kinesis-mock keeps up with.
"${PYTHON:-python3}" -c '
for i in range(1, 1001):
    if i % 97:
        print("gen-coin-%05d" % i)' >"$T/ids"
gecko_config '{"reset": true}' || bail "replay server configuration"
POLLS=4
WANT=20000
seed=${COINPIPE_CRASH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
diag "seed $seed (COINPIPE_CRASH_SEED=$seed to replay this schedule)"

# alive PID: the process runs (a zombie, exited but not yet waited for, does
# not count).
alive() {
	_st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)
	[ -n "$_st" ] && [ "$_st" != Z ]
}

# The two pipelines, always with these command lines; each stage is a
# process of its own (named pipes instead of |) so it can be killed alone.
cd "$T" || bail "cd $T"
start_producer() {
	rm -f prices; mkfifo prices
	"$B/gecko-fetch" --base-url "$COINPIPE_GECKO_URL/api/v3" --rate 100/s \
	    --ids-file ids --vs usd,eur --every 3s --count $POLLS \
	    >prices 2>>gecko-fetch.err &
	gf=$!
	"$B/kin-put" --stream "$s" --key crypto -T <prices >>delivered \
	    2>>kin-put.err &
	kp=$!
	producer_runs=$((producer_runs + 1))
}
start_consumer() {
	rm -f records; mkfifo records
	"$B/kin-get" --stream "$s" --follow --format meta --resume st.json \
	    >records 2>>kin-get.err &
	kg=$!
	"$B/s3-putcsv" "s3://$b/crash/" --checkpoint st.json --max-rows 1000 \
	    --max-age 5s -c ts,crypto,vs,price,updated,shard=_shard,seq=_seq \
	    <records 2>>s3-putcsv.err &
	sp=$!
	consumer_runs=$((consumer_runs + 1))
}

# reap NAME PID [WANT [SECS]]: waits for a stage that is ending (SIGKILL
# after SECS, 4 by default), logs its status; with WANT (one status, or
# several as "0 1"), another status is a failure.
unexpected=0
reap() {
	i=0
	while alive "$2" && [ $i -lt $((${4:-4} * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	alive "$2" && kill -KILL "$2" 2>/dev/null
	wait "$2"
	rc=$?
	echo "$1 $rc" >>statuses
	if [ $# -gt 2 ] && ! case " $3 " in *" $rc "*) true ;; *) false ;; esac
	then
		diag "$1 exited $rc, expected $3"
		unexpected=$((unexpected + 1))
	fi
}

# kill_stage TARGET: SIGKILL to one stage (or both consumer stages), the
# partner left to end as it does, then both started again.
kill_stage() {
	case $1 in
	gecko-fetch)
		kill -KILL "$gf"; reap gecko-fetch "$gf"
		# end of input: delivers, exit 0; 1 when the kill cut the
		# line being written (reported as invalid, never sent)
		reap kin-put "$kp" "0 1" 60
		start_producer ;;
	kin-put)
		kill -KILL "$kp"; reap kin-put "$kp"
		reap gecko-fetch "$gf"		# broken pipe at its next poll
		start_producer ;;
	kin-get)
		kill -KILL "$kg"; reap kin-get "$kg"
		# end of input: uploads, exit 0; 1 when the kill cut the
		# line being written (its record is read again on restart:
		# the checkpoint never covered it)
		reap s3-putcsv "$sp" "0 1" 60
		start_consumer ;;
	s3-putcsv)
		kill -KILL "$sp"; reap s3-putcsv "$sp"
		reap kin-get "$kg"		# broken pipe, or killed when idle
		start_consumer ;;
	consumer)
		kill -KILL "$kg" "$sp"; reap kin-get "$kg"; reap s3-putcsv "$sp"
		start_consumer ;;
	esac
}

gf= kp= kg= sp=
trap 'for p in $gf $kp $kg $sp; do kill -KILL $p 2>/dev/null; done; _lib_cleanup' EXIT
producer_runs=0 consumer_runs=0
start_producer
start_consumer
t0=$(date +%s)

# Ten kills at random moments 1 to 4 s apart, each of a random target.
"${PYTHON:-python3}" -c '
import random, sys
r = random.Random(int(sys.argv[1]))
for _ in range(10):
    print(r.randint(10, 40), r.choice(
        ["gecko-fetch", "kin-put", "kin-get", "s3-putcsv", "consumer"]))
' "$seed" >schedule
delivered() {
	grep -c '"seq"' delivered 2>/dev/null || echo 0
}
kills=0 producing=1 ticks=0
exec 3<schedule
read -r pause target <&3
while [ $kills -lt 10 ] || [ $producing = 1 ]; do
	# a producer run that ended by itself: again, until WANT were delivered
	if [ $producing = 1 ] && ! alive "$gf"; then
		reap gecko-fetch "$gf" 0
		reap kin-put "$kp" 0 60
		if [ "$(delivered)" -lt $WANT ]; then
			start_producer
		else
			producing=0
		fi
	fi
	if [ $kills -lt 10 ] && [ $ticks -ge "$pause" ]; then
		case $target in
		gecko-fetch|kin-put) [ $producing = 1 ] || target=s3-putcsv ;;
		esac
		diag "$(($(date +%s) - t0))s: SIGKILL $target"
		kill_stage "$target"
		kills=$((kills + 1)) ticks=0
		read -r pause target <&3
	fi
	sleep 0.1
	ticks=$((ticks + 1))
done
exec 3<&-
is "$kills" 10 "ten stages killed with SIGKILL and restarted"

# The consumer catches up: st.json covers the last record of every shard.
pycheck "$s" "$T/st.json" <<'PY'
import json, sys, time
from e2elib import *
s, cp = sys.argv[1:3]
kin = client("kinesis", os.environ["COINPIPE_KINESIS_URL"])
last = {}
for sh in kin.list_shards(StreamName=s)["Shards"]:
    it = kin.get_shard_iterator(StreamName=s, ShardId=sh["ShardId"],
                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        r = kin.get_records(ShardIterator=it, Limit=10000)
        if r["Records"]:
            last[sh["ShardId"]] = int(r["Records"][-1]["SequenceNumber"])
        it = r.get("NextShardIterator")
        if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
            break
covered = False
for _ in range(1200):
    try:
        got = json.load(open(cp))["shards"]
        covered = all(int(got.get(k, {}).get("seq", 0)) >= v
                      for k, v in last.items())
    except (OSError, ValueError):
        pass
    if covered:
        break
    time.sleep(0.1)
check(covered, "the checkpoint reaches the last record of every shard",
      (last, open(cp).read() if os.path.exists(cp) else "no file"))
done()
PY
kill -TERM "$kg"
reap kin-get "$kg" 143
reap s3-putcsv "$sp" 0
is "$unexpected" 0 "every stage that was not killed exited as it should"
diag "delivery reports: $(delivered); runs: producer $producer_runs, consumer $consumer_runs; statuses: $(sort statuses | uniq -c | awk '{printf "%s %s x%s, ", $2, $3, $1}')"

pycheck "$s" "$b" <<'PY'
import collections, csv, io, json, sys
from e2elib import *
s, b = sys.argv[1:3]
kin = client("kinesis", os.environ["COINPIPE_KINESIS_URL"])
s3 = client("s3")
recs = {}
for sh in kin.list_shards(StreamName=s)["Shards"]:
    it = kin.get_shard_iterator(StreamName=s, ShardId=sh["ShardId"],
                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        r = kin.get_records(ShardIterator=it, Limit=10000)
        for x in r["Records"]:
            recs[(sh["ShardId"], x["SequenceNumber"])] = x["Data"]
        it = r.get("NextShardIterator")
        if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
            break
rows = collections.defaultdict(list)
nobj = nrows = 0
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix="crash/"):
    keys += [o["Key"] for o in page.get("Contents", [])]
header = ["ts", "crypto", "vs", "price", "updated", "shard", "seq"]
bad_header = []
for k in keys:
    body = s3.get_object(Bucket=b, Key=k)["Body"].read().decode()
    table = list(csv.reader(io.StringIO(body, newline="")))
    nobj += 1
    if table[0] != header:
        bad_header.append(k)
    for row in table[1:]:
        rows[(row[5], row[6])].append(row[:5])
        nrows += 1
check(len(recs) >= 20000, "at least 20000 records reached the stream")
missing = [k for k in recs if k not in rows]
check(not missing, "every record in the stream is in the CSV objects",
      "%d missing, e.g. %s" % (len(missing), missing[:3]))
stray = [k for k in rows if k not in recs]
check(not stray, "every CSV row is a record of the stream", stray[:3])
check(not bad_header, "every object starts with the header", bad_header[:3])

def text(v):
    return "" if v is None else v

wrong = []
for k, data in recs.items():
    d = json.loads(data, parse_float=str, parse_int=str)
    want = [text(d[c]) for c in header[:5]]
    if any(r != want for r in rows.get(k, [])):
        wrong.append((k, want, rows[k]))
check(not wrong, "each row holds its record's fields unchanged", wrong[:2])
dups = nrows - len(rows)
print("# %d records in the stream; %d rows in %d objects; %d duplicates"
      % (len(recs), nrows, nobj, dups))
done()
PY
gecko_config '{"reset": true}'
aws_kin kinesis delete-stream --stream-name "$s" >/dev/null 2>&1
done_testing
