/**
 * The bare baseline: node:http + onnxruntime, no framework, no validation beyond what keeps it
 * from crashing, no logs, no metrics. The service's figures are reported as ratios to this one,
 * so framework and proxy overhead are visible and comparable across machines.
 *
 * Run: node -r @swc-node/register tools/bench/src/baseline-server.ts <model.onnx> <port>
 * Prints `listening <url>` when ready.
 */
import { createServer } from 'node:http';
import { InferenceSession, Tensor } from 'onnxruntime-node';

async function main(): Promise<void> {
  const [modelPath, portText] = process.argv.slice(2);
  const session = await InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const input = session.inputMetadata[0];
  const width = input.isTensor ? Number(input.shape[1]) : 1;
  const [inputName, outputName] = [session.inputNames[0], session.outputNames[0]];

  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","version":"baseline"}');
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
          const predictions = Array.from(outputs[outputName].data as Float32Array);
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ predictions, model_version: 'baseline' }));
        })
        .catch(() => response.writeHead(500).end());
    });
  });
  server.keepAliveTimeout = 72_000;
  server.listen(Number(portText), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : portText;
    console.log(`listening http://127.0.0.1:${port}`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
