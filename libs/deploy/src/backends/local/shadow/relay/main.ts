/**
 * The shadow relay process (see relay.ts), started by `deploy:shadow on` on the local stack:
 * `node -r @swc-node/register libs/deploy/src/backends/local/shadow/relay/main.ts` with RELAY_*
 * variables; on Kubernetes the ml-shadow-relay Deployment runs the built file from the service image.
 */
import { DEFAULT_RELAY_MAX_BODY_BYTES, createRelay, listenRelay } from './relay';

function numberFrom(name: string, fallback: number): number {
  const text = process.env[name];
  const value = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`shadow-relay: ${name}=${JSON.stringify(text)} must be a number >= 0`);
    process.exit(1);
  }
  return value;
}

// Locally: a unix socket to listen on and the idle color's replica sockets through the preview link. On Kubernetes (the
// ml-shadow-relay Deployment, from the service image): a port, and the preview Service's URL.
const socket = process.env['RELAY_SOCKET'];
const controlSocket = process.env['RELAY_CONTROL_SOCKET'];
const captureDir = process.env['RELAY_CAPTURE_DIR'];
const port = process.env['RELAY_PORT'];
// Locally one socket per line (the idle color's replicas); on Kubernetes one URL.
const single = process.env['RELAY_TARGET_URL'] ?? process.env['RELAY_TARGET_SOCKET'];
const targetSockets = single ? [single] : (process.env['RELAY_TARGET_SOCKETS'] ?? '').split('\n').filter((line) => line !== '');
const local = socket !== undefined && controlSocket !== undefined && captureDir !== undefined;
if ((!local && !port) || targetSockets.length === 0) {
  console.error(
    "shadow-relay: locally RELAY_SOCKET (nginx copies to it), RELAY_CONTROL_SOCKET (the deploy commands use it) and RELAY_CAPTURE_DIR (where captures go), or on Kubernetes RELAY_PORT; and RELAY_TARGET_SOCKETS (the idle color's replica sockets, one per line) or RELAY_TARGET_URL (the idle color) are required",
  );
  process.exit(1);
}
const relay = createRelay({
  targetSockets,
  // On a port nothing listens for control calls (no capture there): the folder is never used.
  captureDir: captureDir ?? '/nonexistent',
  // On a port (Kubernetes) the backend reads the counters on the copies' way in; changes stay off it.
  statusOnMirror: !local,
  percent: Math.min(100, numberFrom('RELAY_PERCENT', 100)),
  queueSize: Math.max(1, numberFrom('RELAY_QUEUE_SIZE', 1000)),
  concurrency: Math.max(1, numberFrom('RELAY_CONCURRENCY', 4)),
  timeoutMs: Math.max(1, numberFrom('RELAY_TIMEOUT_MS', 5000)),
  maxBodyBytes: Math.max(1, numberFrom('RELAY_MAX_BODY_BYTES', DEFAULT_RELAY_MAX_BODY_BYTES)),
  // On Compose: the percent set by `deploy:shadow on`, kept across restarts by the restart policy.
  ...(process.env['RELAY_STATE_FILE'] ? { stateFile: process.env['RELAY_STATE_FILE'] } : {}),
});
if (local) {
  listenRelay(relay, { mirror: socket, control: controlSocket }).then(
    () => console.log(JSON.stringify({ msg: 'shadow relay listening', socket, controlSocket, ...relay.status() })),
    (error: Error) => {
      console.error(`shadow-relay: can not listen: ${error.message}`);
      process.exit(1);
    },
  );
} else {
  relay.mirror.listen(numberFrom('RELAY_PORT', 8090), process.env['RELAY_HOST'] ?? '0.0.0.0', () =>
    console.log(JSON.stringify({ msg: 'shadow relay listening', port: Number(port), ...relay.status() })),
  );
}
const stop = (signal: string) => {
  console.log(JSON.stringify({ msg: 'shadow relay stopping', signal, ...relay.status() }));
  const servers = local ? [relay.mirror, relay.control] : [relay.mirror];
  let open = servers.length;
  for (const server of servers) {
    server.close(() => (open -= 1) === 0 && process.exit(0));
    server.closeAllConnections();
  }
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
