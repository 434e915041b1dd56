import { Color, otherColor } from '@mlbg/contract';
import { readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { colorSocket } from '../../spec/sockets';
import type { StackLayout } from './layout';

/**
 * Points a route (`live.sock` or `preview.sock`) at a color's socket: a new RELATIVE symlink next
 * to it, renamed over it. rename(2) is atomic, so nginx sees the old target or the new one, never
 * no file; nginx is not reloaded.
 */
export function pointRoute(link: string, color: Color): void {
  const next = `${link}.next`;
  rmSync(next, { force: true });
  symlinkSync(colorSocket(color), next);
  renameSync(next, link);
}

/** Live to `color`, preview to the other one (live first: that is the route that matters). */
export function pointLiveAt(layout: StackLayout, color: Color): void {
  pointRoute(layout.liveSocket, color);
  pointRoute(layout.previewSocket, otherColor(color));
}

/** The color a route points at, or undefined when the link is missing or points elsewhere. */
export function readRoute(link: string): Color | undefined {
  let target: string;
  try {
    target = readlinkSync(link);
  } catch {
    return undefined;
  }
  return Color.options.find((color) => target === colorSocket(color));
}
