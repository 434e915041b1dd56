/**
 * The shadow relay process (see relay.ts), started by `deploy:shadow on` on the local stack:
 * `node -r @swc-node/register libs/deploy/src/backends/local/shadow/relay/main.ts` with RELAY_* variables.
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

const socket = process.env['RELAY_SOCKET'];
const controlSocket = process.env['RELAY_CONTROL_SOCKET'];
const targetSocket = process.env['RELAY_TARGET_SOCKET'];
const captureDir = process.env['RELAY_CAPTURE_DIR'];
if (!socket || !controlSocket || !targetSocket || !captureDir) {
  console.error(
    'shadow-relay: RELAY_SOCKET (nginx copies to it), RELAY_CONTROL_SOCKET (the deploy commands use it), RELAY_TARGET_SOCKET (the idle color) and RELAY_CAPTURE_DIR (where captures go) are required',
  );
  process.exit(1);
}
const relay = createRelay({
  targetSocket,
  captureDir,
  percent: Math.min(100, numberFrom('RELAY_PERCENT', 100)),
  queueSize: Math.max(1, numberFrom('RELAY_QUEUE_SIZE', 1000)),
  concurrency: Math.max(1, numberFrom('RELAY_CONCURRENCY', 4)),
  timeoutMs: Math.max(1, numberFrom('RELAY_TIMEOUT_MS', 5000)),
  maxBodyBytes: Math.max(1, numberFrom('RELAY_MAX_BODY_BYTES', DEFAULT_RELAY_MAX_BODY_BYTES)),
});
listenRelay(relay, { mirror: socket, control: controlSocket }).then(
  () => console.log(JSON.stringify({ msg: 'shadow relay listening', socket, controlSocket, ...relay.status() })),
  (error: Error) => {
    console.error(`shadow-relay: can not listen: ${error.message}`);
    process.exit(1);
  },
);
const stop = (signal: string) => {
  console.log(JSON.stringify({ msg: 'shadow relay stopping', signal, ...relay.status() }));
  let open = 2;
  for (const server of [relay.mirror, relay.control]) {
    server.close(() => (open -= 1) === 0 && process.exit(0));
    server.closeAllConnections();
  }
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
