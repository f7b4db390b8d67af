#!/bin/sh
# aws-put-records.sh STREAM ENDPOINT DIR: one `aws kinesis put-records` per
# batch file DIR/batch-*.json (500 records each, written by scripts/bench
# before the clock starts), as a shell user of the AWS CLI would; stops at
# the first batch with failed records.
set -eu
stream=$1 url=$2 dir=$3
for f in "$dir"/batch-*.json; do
	failed=$(aws --endpoint-url "$url" kinesis put-records \
	    --stream-name "$stream" --cli-input-json "file://$f" \
	    --query FailedRecordCount --output text)
	[ "$failed" = 0 ] || {
		echo "aws-put-records.sh: $f: $failed records failed" >&2
		exit 1
	}
done
