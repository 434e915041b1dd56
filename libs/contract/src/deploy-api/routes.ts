import { z } from 'zod';
import { Color } from '../color';

/** Percent of a route's requests that each color gets; the shares add up to 100. */
export const Weights = z
  .strictObject({ blue: z.int().min(0).max(100), green: z.int().min(0).max(100) })
  .refine((weights) => weights.blue + weights.green === 100, { message: 'the weights of blue and green must add up to 100' });
export type Weights = z.infer<typeof Weights>;

/** Where every route of nginx (`live`: /, `preview`: /preview/) sends its traffic, e.g. live `{blue: 100, green: 0}`, preview `{blue: 0, green: 100}`. */
export const Routes = z.strictObject({ live: Weights, preview: Weights });
export type Routes = z.infer<typeof Routes>;

/** The color that holds all of a route's weight, or undefined while it is split (a canary). */
export function soleTarget(weights: Weights): Color | undefined {
  return Color.options.find((color) => weights[color] === 100);
}

/** The color with the larger share (blue on a tie): the "stable" one of a split. */
export function mainTarget(weights: Weights): Color {
  return weights.green > weights.blue ? 'green' : 'blue';
}

/** `blue 100%` or `blue 75% / green 25%`, for people. */
export function describeWeights(weights: Weights): string {
  const sole = soleTarget(weights);
  if (sole) return `${sole} 100%`;
  return Color.options.map((color) => `${color} ${weights[color]}%`).join(' / ');
}
