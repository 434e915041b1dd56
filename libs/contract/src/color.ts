import { z } from 'zod';

/** The two identical deployments that take turns serving live traffic. */
export const Color = z.enum(['blue', 'green']);
export type Color = z.infer<typeof Color>;

/** The color that is not `color`. */
export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}
