import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp, type CreateAppOptions } from '../app/create-app';
import { loadConfig } from '../config/app-config';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** Absolute path of a shipped model folder, e.g. `modelDir('v1.0.0')` or `modelDir('fixtures/three-features')`. */
export function modelDir(name: string): string {
  return resolve(WORKSPACE_ROOT, 'models', name);
}

/** The model card `nx run models:build` writes beside each model: its exact weights. */
export interface ModelCard {
  feature_count: number;
  transform: 'identity' | 'polynomial-2';
  weights: number[];
  bias: number;
  model_sha256: string;
  metadata: Record<string, string>;
}

export function readModelCard(name: string): ModelCard {
  return JSON.parse(readFileSync(resolve(modelDir(name), 'model.json'), 'utf8')) as ModelCard;
}

/** The card's closed form (bias + w · transform(row)), computed in float64. */
export function expectedPrediction(card: ModelCard, row: number[]): number {
  const z = card.transform === 'polynomial-2' ? [...row, ...row.map((x) => x * x)] : row;
  return z.reduce((sum, value, i) => sum + card.weights[i] * value, card.bias);
}

/** A log sink that keeps the JSON lines, so tests can read what the service logged. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];

  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(JSON.parse(line));
    this.emit('lines');
    callback();
  }

  /** Resolves once a line matches (lines written after an answer arrive a moment later); rejects after `timeoutMs`. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.lines.some(match)) return;
        clearTimeout(timer);
        this.off('lines', check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('lines', check);
        reject(new Error(`no log line matched within ${timeoutMs} ms; lines: ${JSON.stringify(this.lines.slice(-5))}`));
      }, timeoutMs);
      this.on('lines', check);
      check();
    });
  }
}

/** The real app, as main.ts builds it, on a shipped model, with env overrides. Not listening. */
export async function buildTestApp(
  model = 'v1.0.0',
  env: Record<string, string> = {},
  logs = new LogCapture(),
  options: Omit<CreateAppOptions, 'logStream'> = {},
): Promise<NestFastifyApplication> {
  const config = loadConfig({ MODEL_PATH: resolve(modelDir(model), 'model.onnx'), ...env });
  const app = await createApp(config, { ...options, logStream: logs });
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
