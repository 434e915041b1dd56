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
    callback();
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
