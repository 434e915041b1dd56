/**
 * The bare baseline: node:http + onnxruntime, no framework, no validation beyond what keeps it
 * from crashing, no logs, no metrics. The service's figures are reported as ratios to this one,
 * so framework and proxy overhead are visible and comparable across machines.
 *
 * Run: node -r @swc-node/register tools/bench/src/baseline-server.ts <model.onnx> <port> [socket path]
 * With a socket path it also listens there (mode 0666, like a color's socket, so nginx can proxy to
 * it). Prints `listening <url>` when ready.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import { InferenceSession, Tensor } from 'onnxruntime-node';

const HEALTH = '{"status":"ok","version":"baseline"}';
/** nginx's workers may run as another user (nobody) than the one that starts this server. */
const SOCKET_MODE = 0o666;

async function main(): Promise<void> {
  const [modelPath, portText, socketPath] = process.argv.slice(2);
  const session = await InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const input = session.inputMetadata[0];
  const width = input.isTensor ? Number(input.shape[1]) : 1;
  const [inputName, outputName] = [session.inputNames[0], session.outputNames[0]];
  // A classifier (a label output and probabilities): the answer a client needs, labels and one row of probabilities each.
  const classifier = session.outputNames.length > 1;
  const answer = (outputs: InferenceSession.OnnxValueMapType, rows: number): string => {
    if (!classifier)
      return JSON.stringify({ predictions: Array.from(outputs[outputName].data as Float32Array), model_version: 'baseline' });
    const [labels, probabilities] = session.outputNames.map((name) => outputs[name].data);
    const width = probabilities.length / rows;
    const perRow = Array.from({ length: rows }, (_, i) => Array.from((probabilities as Float32Array).subarray(i * width, (i + 1) * width)));
    return JSON.stringify({ predictions: Array.from(labels as ArrayLike<unknown>), probabilities: perRow, model_version: 'baseline' });
  };

  const handler: RequestListener = (request, response) => {
    if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': HEALTH.length }).end(HEALTH);
      return;
    }
    if (request.method !== 'POST' || request.url !== '/predict') {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let rows: number[][];
      try {
        rows = JSON.parse(Buffer.concat(chunks).toString('utf8')).features;
      } catch {
        response.writeHead(400).end();
        return;
      }
      const data = new Float32Array(rows.length * width);
      for (let i = 0; i < rows.length; i++) data.set(rows[i], i * width);
      session
        .run({ [inputName]: new Tensor('float32', data, [rows.length, width]) })
        .then((outputs) => {
          const body = answer(outputs, rows.length);
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          response.end(body);
        })
        .catch(() => response.writeHead(500).end());
    });
  };

  const server = createServer(handler);
  server.keepAliveTimeout = 72_000;
  const socketServer = socketPath ? createServer(handler) : undefined;
  if (socketServer && socketPath) {
    rmSync(socketPath, { force: true });
    await new Promise<void>((resolve) => socketServer.listen(socketPath, resolve));
    chmodSync(socketPath, SOCKET_MODE);
  }
  server.listen(Number(portText), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : portText;
    console.log(`listening http://127.0.0.1:${port}${socketPath ? ` ${socketPath}` : ''}`);
  });
  process.once('SIGTERM', () => {
    socketServer?.close();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

void main();
