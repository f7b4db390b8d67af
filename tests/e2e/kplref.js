#!/usr/bin/env node
// kplref.js: the reference KPL implementation (awslabs' aws-kinesis-agg,
// pinned in package-lock.json) as a filter for the e2e tests, so that what
// kin-put aggregates and what kin-get de-aggregates are judged by code we
// did not write.
//
//   node kplref.js deagg  < kinesis records, one JSON line each:
//       {"data": BASE64, "partitionKey": K, "sequenceNumber": S}
//     > user records: {"partitionKey", "explicitHashKey", "sequenceNumber",
//       "subSequenceNumber", "data": BASE64}; checksums verified, any error
//       exits 1 with the reason on stderr.
//   node kplref.js agg N  < user records {"partitionKey", "data": TEXT}
//     > aggregated Kinesis records {"partitionKey", "explicitHashKey",
//       "data": BASE64}, one aggregate per N user records (and more when
//       the library splits at its size limit).
"use strict";
const path = require("path");
const readline = require("readline");
const agg = require(path.join(__dirname, "..", "..", "node_modules",
    "aws-kinesis-agg"));

function lines(onLine, onEnd) {
    const rl = readline.createInterface({ input: process.stdin });
    rl.on("line", (l) => { if (l !== "") onLine(JSON.parse(l)); });
    rl.on("close", onEnd);
}

function fail(err) {
    process.stderr.write("kplref: " + (err && err.message || err) + "\n");
    process.exit(1);
}

function deagg() {
    lines((rec) => {
        agg.deaggregateSync(rec, true, (err, users) => {
            if (err) fail(err);
            for (const u of users)
                process.stdout.write(JSON.stringify({
                    partitionKey: u.partitionKey,
                    explicitHashKey: u.explicitPartitionKey,
                    sequenceNumber: u.sequenceNumber,
                    subSequenceNumber: u.subSequenceNumber,
                    data: u.data }) + "\n");
        });
    }, () => {});
}

// one aggregate() per chunk, in order: the library calls back per record
function aggChunks(chunks, i) {
    if (i === chunks.length) return;
    agg.aggregate(chunks[i], (enc, cb) => {
        process.stdout.write(JSON.stringify({
            partitionKey: enc.partitionKey,
            explicitHashKey: enc.explicitHashKey,
            data: Buffer.from(enc.data).toString("base64") }) + "\n");
        cb();
    }, () => aggChunks(chunks, i + 1), (err) => fail(err));
}

function aggregate(per) {
    const chunks = [[]];
    lines((rec) => {
        if (chunks[chunks.length - 1].length === per) chunks.push([]);
        chunks[chunks.length - 1].push({ partitionKey: rec.partitionKey,
            data: Buffer.from(rec.data, "utf8") });
    }, () => aggChunks(chunks.filter((c) => c.length > 0), 0));
}

if (process.argv[2] === "deagg") deagg();
else if (process.argv[2] === "agg") aggregate(parseInt(process.argv[3], 10) || 100);
else fail("usage: kplref.js deagg | agg N");
