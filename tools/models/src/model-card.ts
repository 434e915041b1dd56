import { createHash } from 'node:crypto';
import { MODEL_INPUT_NAME, MODEL_OUTPUT_NAME } from '@mlbg/contract';
import { z } from 'zod';
import { FEATURE_TRANSFORMS } from './feature-transform';
import { LinearModelSpec } from './onnx-export';

/** File name of a model beside its card. */
export const MODEL_FILE = 'model.onnx';
/** File name of the card beside a model. */
export const CARD_FILE = 'model.json';
const GENERATED_BY = 'nx run models:build (tools/models); do not edit';

/**
 * `model.json`, written beside each `model.onnx`: everything needed to predict in closed form,
 * prediction = bias + Σ weights[i] · z[i], with z = x (`identity`) or [...x, ...x²] (`polynomial-2`).
 * `weights` and `bias` are the exact float32 values in the ONNX file; `metadata` is the file's
 * `metadata_props` as strings ({} when it has none).
 */
export const ModelCard = z.object({
  generated_by: z.string(),
  model_file: z.literal(MODEL_FILE),
  model_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  input: z.literal(MODEL_INPUT_NAME),
  output: z.literal(MODEL_OUTPUT_NAME),
  feature_count: z.number().int().positive(),
  transform: z.enum(FEATURE_TRANSFORMS),
  weights: z.array(z.number()),
  bias: z.number(),
  metadata: z.record(z.string(), z.string()),
});
export type ModelCard = z.infer<typeof ModelCard>;

/** Hex sha256 of some bytes. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The card for a model built from `spec` whose bytes are `modelBytes`. */
export function modelCard(spec: LinearModelSpec, modelBytes: Uint8Array): ModelCard {
  return {
    generated_by: GENERATED_BY,
    model_file: MODEL_FILE,
    model_sha256: sha256(modelBytes),
    input: MODEL_INPUT_NAME,
    output: MODEL_OUTPUT_NAME,
    feature_count: spec.featureCount,
    transform: spec.transform ?? 'identity',
    // The graph stores float32; the card states exactly those values.
    weights: spec.weights.map(Math.fround),
    bias: Math.fround(spec.bias),
    metadata: { ...spec.metadata },
  };
}

/** Pretty JSON with a trailing newline, as committed. */
export function renderCard(card: ModelCard): string {
  return `${JSON.stringify(card, null, 2)}\n`;
}
