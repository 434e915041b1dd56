import { z } from 'zod';
import { COLORS } from './colors';

/** The two identical deployments that take turns serving live traffic. */
export const Color = z.enum(COLORS);
export type Color = z.infer<typeof Color>;
export { otherColor } from './colors';
