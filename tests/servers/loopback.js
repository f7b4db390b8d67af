// Preloaded into kinesis-mock with `node --require`: kinesis-mock (kinesis-local)
// hard-codes the wildcard address 0.0.0.0 and offers no setting for it, so every
// listen() without a host, or with a wildcard host, is bound to 127.0.0.1 here.
'use strict';
const net = require('net');

const LOOPBACK = '127.0.0.1';
const WILDCARD = new Set([undefined, null, '', '0.0.0.0', '::', '[::]']);
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function (...args) {
	const first = args[0];
	if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
		if (first.path === undefined && WILDCARD.has(first.host))
			args[0] = Object.assign({}, first, { host: LOOPBACK });
	} else if (typeof first === 'number' ||
	    (typeof first === 'string' && /^\d+$/.test(first))) {
		if (typeof args[1] === 'function' || args.length < 2)
			args.splice(1, 0, LOOPBACK);
		else if (WILDCARD.has(args[1]))
			args[1] = LOOPBACK;
	}
	return listen.apply(this, args);
};
