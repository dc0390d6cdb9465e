'use strict';
// What the bundle takes from undici, for kubestep's client (src/kube/client.ts) and
// client-node's KubeConfig: Agent and ProxyAgent, with the request API on every dispatcher.
// undici's index also loads fetch, WebSocket, EventSource, cache stores and mock agents: ~45 ms
// more start-up and ~12 MB more memory per run (README: Performance). scripts/bundle.mjs points
// those importers' `undici` here; everything else in the bundle gets the whole package.
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
Object.assign(Dispatcher.prototype, require('undici/lib/api'));

module.exports = {
  Agent: require('undici/lib/dispatcher/agent'),
  ProxyAgent: require('undici/lib/dispatcher/proxy-agent'),
};
