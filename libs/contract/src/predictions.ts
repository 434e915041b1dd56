import { z } from 'zod';
import { Color } from './color';
import type { AnyPredictResponse } from './predict';
import { ClassLabel } from './signature';

/**
 * The header nginx's mirror (and the shadow relay) sets on a copy of a live request sent to the
 * idle color: the color records it as shadow, never as live. nginx clears it on every live request.
 */
export const SHADOW_HEADER = 'x-mlbg-shadow';

/** A color's record of its last predictions, on its own port and socket only (nginx answers 404). */
export const PREDICTIONS_ADMIN_PATH = '/admin/predictions';

/** One prediction a color answered: enough to join it with the other color's answer to the same request. */
export const PredictionRecord = z.object({
  /** Increases by one per record since the color started: `?after=` pages on it. */
  seq: z.number().int(),
  requestId: z.string(),
  time: z.string(),
  route: z.enum(['predict', 'v2-infer']),
  /** sha256 (hex, first 16 digits) of the input tensor's bytes: equal inputs, equal digests, however the JSON was written. */
  inputDigest: z.string(),
  rows: z.number().int(),
  /** The numbers answered, one array per row (a regression answer is one number per row). */
  outputs: z.array(z.array(z.number())),
  /** A classifier's labels, one per row. */
  labels: z.array(ClassLabel).optional(),
  /** True when more was answered than a record keeps (`outputs` has the first rows, or none and `outputsDigest`). */
  truncated: z.boolean(),
  /** When even one row is too wide to keep: sha256 (hex, first 16 digits) of every number answered; `outputs` is then empty. */
  outputsDigest: z.string().optional(),
  latencyMs: z.number(),
  shadow: z.boolean(),
});
export type PredictionRecord = z.infer<typeof PredictionRecord>;

/** `GET /admin/predictions[?after=SEQ&limit=N]`: the records after `after`, oldest first. */
export const PredictionsResponse = z.object({
  color: Color,
  version: z.string(),
  /** How many records the color keeps (PREDICTION_LOG_SIZE); 0 = recording is off. */
  capacity: z.number().int(),
  /** Records made since the color started (older ones beyond `capacity` are gone). */
  recorded: z.number().int(),
  records: z.array(PredictionRecord),
});
export type PredictionsResponse = z.infer<typeof PredictionsResponse>;

/**
 * A /predict answer as rows of numbers (and labels for a classifier), as a record keeps it; with
 * `maxRows`, only the first rows (a 10,000-row answer made into 10,000 arrays to keep 100 was most
 * of the garbage a large batch left).
 */
export function predictionOutputs(response: AnyPredictResponse, maxRows = Infinity): Pick<PredictionRecord, 'outputs' | 'labels'> {
  const first = <T>(rows: T[]) => (rows.length > maxRows ? rows.slice(0, maxRows) : rows);
  if ('probabilities' in response) return { outputs: first(response.probabilities), labels: first(response.predictions) };
  return { outputs: first(response.predictions as (number | number[])[]).map((value) => (Array.isArray(value) ? value : [value])) };
}
