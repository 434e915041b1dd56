import { Color } from '@mlbg/contract';
import { readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { type RouteName, type Routes, allTo, describeWeights, soleTarget } from '../../routing/routes';
import { colorSocket } from '../../spec/sockets';
import type { StackLayout } from './layout';

/**
 * The router of a stack whose nginx proxies to socket symlinks: `live.sock` and `preview.sock`
 * point at a color's socket. Used by every backend that can reach the socket folder.
 */

/**
 * Points a route's link at a color's socket: a new RELATIVE symlink next to it, renamed over it.
 * rename(2) is atomic, so nginx sees the old target or the new one, never no file; nginx is not
 * reloaded.
 */
export function pointLink(link: string, color: Color): void {
  const next = `${link}.next`;
  rmSync(next, { force: true });
  symlinkSync(colorSocket(color), next);
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
  return Color.options.find((color) => target === colorSocket(color));
}

function linkOf(layout: StackLayout, route: RouteName): string {
  return route === 'live' ? layout.liveSocket : layout.previewSocket;
}

/**
 * Moves the links to `routes`, live first (the route that matters). One link per route carries
 * all of its traffic, so a split weight can not be expressed here.
 * @throws Error when a route is split between the colors
 */
export function writeRouteLinks(layout: StackLayout, routes: Routes): void {
  for (const route of ['live', 'preview'] as const) {
    const color = soleTarget(routes[route]);
    if (!color) throw new Error(`the ${route} route can not be split (${describeWeights(routes[route])}) by one socket link; send it all to one color`);
    if (readLink(linkOf(layout, route)) !== color) pointLink(linkOf(layout, route), color);
  }
}

/** The routes as the links are now; a missing or foreign link is reported as undefined. */
export function readRouteLinks(layout: StackLayout): { live?: Color; preview?: Color } {
  const live = readLink(layout.liveSocket);
  const preview = readLink(layout.previewSocket);
  return { ...(live ? { live } : {}), ...(preview ? { preview } : {}) };
}

/** The routes the links say, falling back to `fallback` for a link that is missing. */
export function routesFromLinks(layout: StackLayout, fallback: Routes): Routes {
  const links = readRouteLinks(layout);
  return { live: links.live ? allTo(links.live) : fallback.live, preview: links.preview ? allTo(links.preview) : fallback.preview };
}
