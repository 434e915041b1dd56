import { z } from 'zod';
import { Color } from './color';
import { ModelSignature } from './signature';

/**
 * `ok` only while the model is loaded and a warm-up inference passed; anything else comes with 503.
 * The original design's clients read `status` and `version`; the other keys are additions.
 */
export const HealthStatus = z.enum(['ok', 'starting', 'draining', 'error']);
export type HealthStatus = z.infer<typeof HealthStatus>;

export const HealthResponse = z
  .object({
    status: HealthStatus,
    version: z.string(),
    color: Color,
    feature_count: z.number().int().positive(),
    model_sha256: z.string(),
    uptime_seconds: z.number().nonnegative(),
    /** What the model takes and gives (inputs, outputs, task, classes): what the deploy tool compares before a switch. */
    signature: ModelSignature.optional(),
    /** Per-check details in @nestjs/terminus's shape. */
    details: z.record(z.string(), z.object({ status: z.enum(['up', 'down']) }).loose()).optional(),
  })
  .loose();
export type HealthResponse = z.infer<typeof HealthResponse>;

/** `GET /health/live`: the process is up (it may still be loading or draining). */
export const LivenessResponse = z.object({ status: z.literal('ok') });
export type LivenessResponse = z.infer<typeof LivenessResponse>;
