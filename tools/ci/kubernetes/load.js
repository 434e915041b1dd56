// In-cluster load for the kubernetes CI job: POST /predict to a URL from N workers for S seconds,
// each request on a new connection (so it follows the Service's selector as it is now), and print
// one JSON line: every response counted by status and by model version, the versions in the order
// they were first seen, and the last one. Plain node (the model service's image has no curl). Exit 1 on any failure.
//   node load.js http://ml-live/predict 60 8 [host]
const http = require('node:http');

// `node load.js a b c` and `node -e "$(cat load.js)" a b c` both work: -e has no script path in argv.
const args = process.argv.slice(process.argv[1] === __filename ? 2 : 1);
// `host`: the Host header, for a Gateway that routes by host name (the HTTPRoute's hostnames).
const [url = 'http://ml-live/predict', seconds = '60', workers = '8', host] = args;
const until = Date.now() + Number(seconds) * 1000;
const body = JSON.stringify({ features: [[1], [2], [3]] });
const counts = { sent: 0, answered: 0, statuses: {}, versions: {}, versionOrder: [], lastVersion: null, errors: {} };

function once() {
  return new Promise((resolve) => {
    counts.sent += 1;
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(host ? { host } : {}) },
        timeout: 5000,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          counts.answered += 1;
          counts.statuses[res.statusCode] = (counts.statuses[res.statusCode] || 0) + 1;
          const version = res.headers['x-model-version'] || 'none';
          if (!(version in counts.versions)) counts.versionOrder.push(version);
          counts.versions[version] = (counts.versions[version] || 0) + 1;
          counts.lastVersion = version;
          resolve();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => {
      counts.errors[error.code || error.message] = (counts.errors[error.code || error.message] || 0) + 1;
      resolve();
    });
    req.end(body);
  });
}

async function worker() {
  while (Date.now() < until) await once();
}

Promise.all(Array.from({ length: Number(workers) }, worker)).then(() => {
  const failed = counts.sent - (counts.statuses[200] || 0);
  console.log(JSON.stringify({ ...counts, failed }));
  process.exitCode = failed === 0 ? 0 : 1;
});
