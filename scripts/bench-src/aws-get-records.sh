#!/bin/sh
# aws-get-records.sh STREAM ENDPOINT WORKDIR: every shard from TRIM_HORIZON
# until caught up (an empty answer with MillisBehindLatest 0), with
# `aws kinesis get-records` and jq, one record's data per line on stdout.
set -eu
stream=$1 url=$2 dir=$3
mkdir -p "$dir"
resp=$dir/resp.json
shards=$(aws --endpoint-url "$url" kinesis list-shards --stream-name "$stream" \
    --query 'Shards[].ShardId' --output text)
for shard in $shards; do
	it=$(aws --endpoint-url "$url" kinesis get-shard-iterator \
	    --stream-name "$stream" --shard-id "$shard" \
	    --shard-iterator-type TRIM_HORIZON --query ShardIterator \
	    --output text)
	while [ -n "$it" ]; do
		aws --endpoint-url "$url" kinesis get-records \
		    --shard-iterator "$it" --limit 10000 >"$resp"
		jq -r '.Records[].Data | @base64d' "$resp"
		set -- $(jq -r '"\(.Records | length) \(.MillisBehindLatest)"' \
		    "$resp")
		[ "$1" -eq 0 ] && [ "$2" = 0 ] && break
		it=$(jq -r '.NextShardIterator // empty' "$resp")
	done
done
