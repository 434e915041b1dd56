import { Color } from '@mlbg/contract';
import { readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type Routes, type Weights, allTo, describeWeights, soleTarget } from '../../../routing/routes';
import { routeLinks, weightsOfSlots } from '../../../routing/slots';
import { colorFolder } from '../../../spec/sockets';
import type { StackLayout } from '../layout';

/**
 * The router of a stack whose nginx proxies through symlinks to the colors' folders of replica
 * sockets: nginx spreads the live route over `live-slot-NN` links (the share of slots on a color is
 * its weight), `preview` points at the idle (or canary) color, `canary` at the canary (the live
 * color when there is none), and `live` at the live (stable) color, for tools that look for one
 * live link. Used by every backend that can reach the socket folder.
 */

/**
 * Points a link at a color's folder: a new RELATIVE symlink next to it, renamed over it.
 * rename(2) is atomic, so nginx sees the old target or the new one, never no file, and every
 * replica behind the link moves at once; nginx is not reloaded.
 */
export function pointLink(link: string, color: Color): void {
  const next = `${link}.next`;
  rmSync(next, { force: true });
  symlinkSync(colorFolder(color), next);
  renameSync(next, link);
}

/** The color a link points at, or undefined when it is missing or points elsewhere. */
export function readLink(link: string): Color | undefined {
  let target: string;
  try {
    target = readlinkSync(link);
  } catch {
    return undefined;
  }
  return Color.options.find((color) => target === colorFolder(color));
}

/**
 * Moves the links to `routes` (see {@link routeLinks}): the live slots first, one rename per link
 * that changes color, then the other links.
 * @throws Error when the preview route is split, or the live weights are not a multiple of one slot
 */
export function writeRouteLinks(layout: StackLayout, routes: Routes, slots: number): void {
  if (!soleTarget(routes.preview))
    throw new Error(`the preview route can not be split (${describeWeights(routes.preview)}); send it all to one color`);
  const path = (link: string) => join(layout.socketDir, link);
  for (const [link, color] of routeLinks(routes, slots)) if (readLink(path(link)) !== color) pointLink(path(link), color);
}

/** The live weights as the slot links are now, or undefined when a slot link is missing or foreign. */
export function readLiveSlots(layout: StackLayout, slots: number): Weights | undefined {
  const colors = Array.from({ length: slots }, (_, index) => readLink(layout.liveSlot(index)));
  if (colors.some((color) => color === undefined)) return undefined;
  return weightsOfSlots(colors as Color[]);
}

/** The routes as the links are now; a missing or foreign link is reported as undefined. */
export function readRouteLinks(layout: StackLayout, slots: number): { live?: Weights; preview?: Color } {
  const live = readLiveSlots(layout, slots);
  const preview = readLink(layout.previewLink);
  return { ...(live ? { live } : {}), ...(preview ? { preview } : {}) };
}

/** The routes the links say, falling back to `fallback` for a link that is missing. */
export function routesFromLinks(layout: StackLayout, fallback: Routes, slots: number): Routes {
  const links = readRouteLinks(layout, slots);
  return { live: links.live ?? fallback.live, preview: links.preview ? allTo(links.preview) : fallback.preview };
}
