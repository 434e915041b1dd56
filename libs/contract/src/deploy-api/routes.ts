import { z } from 'zod';

/** Percent of a route's requests that each color gets; the shares add up to 100. */
export const Weights = z
  .strictObject({ blue: z.int().min(0).max(100), green: z.int().min(0).max(100) })
  .refine((weights) => weights.blue + weights.green === 100, { message: 'the weights of blue and green must add up to 100' });
export type Weights = z.infer<typeof Weights>;

/** Where every route of nginx (`live`: /, `preview`: /preview/) sends its traffic, e.g. live `{blue: 100, green: 0}`, preview `{blue: 0, green: 100}`. */
export const Routes = z.strictObject({ live: Weights, preview: Weights });
export type Routes = z.infer<typeof Routes>;
