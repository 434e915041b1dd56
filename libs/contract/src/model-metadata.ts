import { z } from 'zod';

/** A model version as the original design names them: `v1.0.0`. */
export const ModelVersion = z.string().regex(/^v\d+\.\d+\.\d+$/, 'expected a version like v1.0.0');
export type ModelVersion = z.infer<typeof ModelVersion>;

/**
 * Keys the shipped models carry in the ONNX `metadata_props`. All values are strings in ONNX;
 * this schema parses them into their real types. A model a user brings may carry none of them:
 * the service then reads the feature count from the input shape and derives a version.
 */
export const ModelMetadata = z.object({
  model_version: ModelVersion,
  feature_count: z.coerce.number().int().positive(),
  training_data_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  training_rows: z.coerce.number().int().positive(),
  rmse: z.coerce.number().nonnegative(),
  model_family: z.string().min(1),
});
export type ModelMetadata = z.infer<typeof ModelMetadata>;

/** Names of the input and output tensors of the shipped models. */
export const MODEL_INPUT_NAME = 'features';
export const MODEL_OUTPUT_NAME = 'predictions';
