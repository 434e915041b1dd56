import type { Color } from '@mlbg/contract';
import { CANARY_LINK, LIVE_LINK, PREVIEW_LINK, liveSlotLink } from '../spec/sockets';
import { type Routes, type Weights, describeWeights, mainTarget, soleTarget } from './routes';

/**
 * Weights as slot links: nginx spreads requests evenly over `slots` slot links, so a color with `k`
 * slots gets `k / slots` of the traffic. Pure.
 */

/** The weight one slot carries, e.g. 5 (%) with 20 slots; every weight must be a multiple of it. */
export function slotStep(slots: number): number {
  return 100 / slots;
}

/** Why `weights` can not be expressed with `slots` slots, or undefined when it can. */
export function unrepresentable(weights: Weights, slots: number): string | undefined {
  const slotsOfGreen = (weights.green * slots) / 100;
  if (Number.isInteger(slotsOfGreen)) return undefined;
  return `${describeWeights(weights)} can not be made with ${slots} live slots (each carries ${formatPercent(slotStep(slots))}); use multiples of ${formatPercent(slotStep(slots))}`;
}

/**
 * The order in which slots move to green as its weight grows: slot `i` ranks by the fractional part
 * of `i * golden ratio`, a low-discrepancy sequence, so any number of green slots is spread evenly
 * over the round-robin cycle; and a slot on green stays on green while the weight grows, so sticky
 * clients (hashed to a slot) keep their color as a canary advances.
 */
export function slotOrder(slots: number): number[] {
  const golden = (Math.sqrt(5) - 1) / 2;
  return Array.from({ length: slots }, (_, index) => index).sort((a, b) => frac(a * golden) - frac(b * golden) || a - b);
}

/**
 * The color of every slot, index = slot number.
 * @throws Error when the weights are not a multiple of one slot's share (see {@link unrepresentable})
 */
export function assignSlots(weights: Weights, slots: number): Color[] {
  const problem = unrepresentable(weights, slots);
  if (problem) throw new Error(problem);
  const green = new Set(slotOrder(slots).slice(0, (weights.green * slots) / 100));
  return Array.from({ length: slots }, (_, index) => (green.has(index) ? 'green' : 'blue'));
}

/** The weights a slot assignment gives (the inverse of {@link assignSlots}). */
export function weightsOfSlots(assignment: readonly Color[]): Weights {
  const green = Math.round((100 * assignment.filter((color) => color === 'green').length) / assignment.length);
  return { blue: 100 - green, green };
}

function frac(value: number): number {
  return value - Math.floor(value);
}

function formatPercent(value: number): string {
  return `${Number.isInteger(value) ? value : value.toFixed(2)}%`;
}

/**
 * Every route link and the color it points at under `routes`, in the order a move renames them:
 * the live slots (`live-slot-NN`), then `canary` (the minor share's color while the live route is
 * split, else the live color), `live` (the main share's), and `preview` when the preview route has
 * one color (a link can not be split). Pure.
 * @throws Error when the live weights are not a multiple of one slot's share
 */
export function routeLinks(routes: Routes, slots: number): [link: string, color: Color][] {
  const main = mainTarget(routes.live);
  const preview = soleTarget(routes.preview);
  return [
    ...assignSlots(routes.live, slots).map((color, index): [string, Color] => [liveSlotLink(index), color]),
    [CANARY_LINK, soleTarget(routes.live) ?? (main === 'blue' ? 'green' : 'blue')],
    [LIVE_LINK, main],
    ...(preview ? [[PREVIEW_LINK, preview] as [string, Color]] : []),
  ];
}

/**
 * The color each route link points at under `routes` (file name -> color). For telling which color
 * nginx tried when it answered a request itself (the color was down). Pure.
 */
export function linkColors(routes: Routes, slots: number): (link: string) => Color | undefined {
  const names = new Map<string, Color>(routeLinks(routes, slots));
  return (link) => names.get(link);
}
