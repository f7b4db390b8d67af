// tests/chaos/kinesalite.js PORTFILE: an in-memory kinesalite on 127.0.0.1
// at a port the kernel picks, written to PORTFILE (via a rename) once it
// listens. kinesalite's CLI would bind every address and reads port 0 as its
// default 4567, hence this launcher. Streams are ACTIVE at once.
'use strict';
const fs = require('fs');
const path = require('path');

const file = process.argv[2];
if (!file) {
	process.stderr.write('usage: kinesalite.js PORTFILE\n');
	process.exit(2);
}
const top = path.resolve(__dirname, '../..');

// memdown answers every iterator step and write with setImmediate, one
// turn of the event loop each; a turn also runs whatever requests came in.
// Under a producer's steady PutRecords (each a few ms of work), a
// GetRecords of 10,000 records then waits for 10,000 of them: measured
// 5 to 9 s per call, the consumer stalled while the producer ran. Yield to
// I/O once every 256 steps instead (process.nextTick otherwise: a fresh
// stack each time, no recursion).
const immediate = require.resolve('memdown/immediate',
    { paths: [path.join(top, 'node_modules')] });
let steps = 0;
require.cache[immediate] = {
	id: immediate, filename: immediate, loaded: true,
	exports: (fn, ...args) => (++steps & 255) !== 0 ?
	    process.nextTick(fn, ...args) : setImmediate(fn, ...args),
};
const kinesalite = require(path.join(top, 'node_modules/kinesalite'));
const srv = kinesalite({ createStreamMs: 0, deleteStreamMs: 0,
    updateStreamMs: 0 });
srv.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(file + '.tmp', String(srv.address().port) + '\n');
	fs.renameSync(file + '.tmp', file);
});
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => process.exit(0));
