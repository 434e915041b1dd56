/**
 * The two colors' names, without zod: the dashboard's page imports this (and the other zod-free
 * helpers of the deploy API) without bundling the schemas. `Color` (color.ts) is the schema.
 */
export const COLORS = ['blue', 'green'] as const;
export type ColorName = (typeof COLORS)[number];

/** The color that is not `color`. */
export function otherColor(color: ColorName): ColorName {
  return color === 'blue' ? 'green' : 'blue';
}
