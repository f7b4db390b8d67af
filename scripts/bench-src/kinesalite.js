// scripts/bench-src/kinesalite.js PORTFILE: kinesalite (in memory) on
// 127.0.0.1 at an ephemeral port, written to PORTFILE once it listens.
// kinesalite's own CLI treats --port 0 as "default 4567" and binds every
// address, so scripts/bench starts it through this launcher instead.
'use strict';
const fs = require('fs');
const path = require('path');
const kinesalite = require(path.join(__dirname, '..', '..', 'node_modules',
    'kinesalite'));

const portFile = process.argv[2];
if (!portFile) {
	console.error('usage: kinesalite.js PORTFILE');
	process.exit(2);
}
// Streams become ACTIVE at once; the benchmark makes and drops many.
const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0,
    updateStreamMs: 0, shardLimit: 1000 });
server.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(portFile + '.tmp', server.address().port + '\n');
	fs.renameSync(portFile + '.tmp', portFile);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
