import { ROUTE_LINK_NAME, ROUTER_CONNECTIONS } from '@mlbg/contract';
import { readlinkSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { basename, dirname, join } from 'node:path';

/** More link names than any route layout has (live, preview, canary, slots): a bound on the cache. */
const MAX_CACHED_LINKS = 256;

/** True when the answer to a request with these headers must close its connection. */
export type RetiredConnection = (headers: IncomingHttpHeaders) => boolean;

export interface RouteRetirementOptions {
  /**
   * This replica's own socket (SOCKET_PATH), in its color's folder (`<dir>/blue/r1.sock`); the route
   * links live beside that folder (`<dir>/live-slot-07 -> blue`). Undefined: never retire.
   */
  readonly socketPath: string | undefined;
  readonly intervalMs?: number;
  readonly now?: () => number;
  readonly readLink?: (path: string) => string;
}

/**
 * Kept connections from nginx are retired here (see docs/architecture.md, "Kept connections"):
 * nginx names the route link a request came through (`x-mlbg-socket: live-slot-07`); when that link
 * no longer points at this replica's color folder (or is gone), the answer carries
 * `Connection: close` and nginx drops the connection instead of keeping it. The link is read at most
 * once per interval per name, so the check costs a map lookup on almost every request. Requests
 * without the header (direct clients, the deploy tool's gates) are never retired.
 */
export function createRouteRetirement(options: RouteRetirementOptions): RetiredConnection {
  const { socketPath } = options;
  if (!socketPath) return () => false;
  const intervalMs = options.intervalMs ?? ROUTER_CONNECTIONS.LINK_CHECK_INTERVAL_MS;
  const now = options.now ?? (() => performance.now());
  const readLink = options.readLink ?? ((path: string) => readlinkSync(path));
  const colorFolder = dirname(socketPath);
  const own = basename(colorFolder);
  const linkFolder = dirname(colorFolder);
  const checked = new Map<string, { pointsHere: boolean; at: number }>();

  const pointsHere = (link: string): boolean => {
    try {
      return basename(readLink(join(linkFolder, link))) === own;
    } catch {
      return false; // the link is gone: nothing routes here through it any more
    }
  };

  return (headers) => {
    const link = headers[ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER];
    if (typeof link !== 'string' || link === own || !ROUTE_LINK_NAME.test(link)) return false;
    const time = now();
    const cached = checked.get(link);
    if (cached && time - cached.at < intervalMs) return !cached.pointsHere;
    if (checked.size >= MAX_CACHED_LINKS) checked.clear();
    const fresh = { pointsHere: pointsHere(link), at: time };
    checked.set(link, fresh);
    return !fresh.pointsHere;
  };
}
