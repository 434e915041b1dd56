import { COLORS, type ColorName } from '../colors';
import type { Weights } from './routes';

// Zod-free, so the dashboard's page shows routes as the CLI does without bundling the schemas.

/** The color that holds all of a route's weight, or undefined while it is split (a canary). */
export function soleTarget(weights: Weights): ColorName | undefined {
  return COLORS.find((color) => weights[color] === 100);
}

/** The color with the larger share (blue on a tie): the "stable" one of a split. */
export function mainTarget(weights: Weights): ColorName {
  return weights.green > weights.blue ? 'green' : 'blue';
}

/** `blue 100%` or `blue 75% / green 25%`, for people. */
export function describeWeights(weights: Weights): string {
  const sole = soleTarget(weights);
  if (sole) return `${sole} 100%`;
  return COLORS.map((color) => `${color} ${weights[color]}%`).join(' / ');
}
