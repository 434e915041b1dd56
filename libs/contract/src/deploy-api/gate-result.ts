import { z } from 'zod';

/**
 * What one check found, in the same shape everywhere (human output, `--json`, the history):
 * what it saw, what it wanted, and what to do when they differ.
 */
export const GateResult = z.strictObject({
  name: z.string(),
  ok: z.boolean(),
  observed: z.string(),
  expected: z.string(),
  hint: z.string().optional(),
});
export type GateResult = z.infer<typeof GateResult>;
