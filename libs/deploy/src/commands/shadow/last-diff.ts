import { z } from 'zod';
import type { DiffReport } from '../../gates';

/**
 * The latest prediction-diff report (`last-diff.json` in the state folder), written whole by
 * whatever made it: `deploy diff`, the prediction-diff gate of a switch or canary, the dashboard's
 * compare. The dashboard shows it without being asked. One report, replaced by the next.
 */
export const LastDiff = z.strictObject({
  /** When it was made (ISO). */
  time: z.string(),
  /** What made it, e.g. `deploy diff`, `prediction-diff gate of switch`. */
  by: z.string(),
  user: z.string(),
  result: z.strictObject({
    // The report's own shape is the TypeScript one (gates/prediction-diff-report.ts); an object is all that is checked here.
    report: z.custom<DiffReport>((value) => typeof value === 'object' && value !== null && 'pairs' in value, 'a prediction-diff report'),
    problems: z.array(z.string()),
    judged: z.boolean(),
    notes: z.array(z.string()),
  }),
});
export type LastDiff = z.infer<typeof LastDiff>;
