import { ROUTE_SOCKET_NAME, ROUTER_CONNECTIONS } from '@mlbg/contract';
import { readdirSync, readlinkSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { basename, dirname, join } from 'node:path';

/** More link names than any route layout has (live, preview, canary slots): a bound on the cache. */
const MAX_CACHED_LINKS = 256;

/** True when the answer to a request with these headers must close its connection. */
export type RetiredConnection = (headers: IncomingHttpHeaders) => boolean;

export interface RouteRetirementOptions {
  /** This color's own socket (SOCKET_PATH); the route links live in the same folder. Undefined: never retire. */
  readonly socketPath: string | undefined;
  readonly intervalMs?: number;
  readonly now?: () => number;
  readonly readLink?: (path: string) => string;
  readonly listFolder?: (path: string) => string[];
}

/**
 * Kept connections from nginx are retired here (see docs/architecture.md, "Kept connections"):
 * nginx names the socket link a request came through (`x-mlbg-socket: live.sock`); when that link
 * no longer points at this color's socket, the answer carries `Connection: close` and nginx drops
 * the connection instead of keeping it. The link is read at most once per interval per name, so
 * the check costs a map lookup on almost every request. Requests without the header (direct
 * clients, the deploy tool's gates) are never retired.
 *
 * A pattern (`live-slot-*.sock`: nginx round-robins over the canary's slot links and can not say
 * which one a request took) keeps the connection only while EVERY matching link points here. So
 * at a 0/100 split live connections are kept, and during a canary each color closes its live
 * connections after one answer (a kept connection could be on a slot that moved away).
 */
export function createRouteRetirement(options: RouteRetirementOptions): RetiredConnection {
  const { socketPath } = options;
  if (!socketPath) return () => false;
  const intervalMs = options.intervalMs ?? ROUTER_CONNECTIONS.LINK_CHECK_INTERVAL_MS;
  const now = options.now ?? (() => performance.now());
  const readLink = options.readLink ?? ((path: string) => readlinkSync(path));
  const listFolder = options.listFolder ?? ((path: string) => readdirSync(path));
  const own = basename(socketPath);
  const folder = dirname(socketPath);
  const checked = new Map<string, { pointsHere: boolean; at: number }>();

  const linkPointsHere = (link: string): boolean => {
    try {
      return basename(readLink(join(folder, link))) === own;
    } catch {
      return false; // the link is gone: nothing routes here through it any more
    }
  };
  const pointsHere = (link: string): boolean => {
    const star = link.indexOf('*');
    if (star < 0) return linkPointsHere(link);
    const [prefix, suffix] = [link.slice(0, star), link.slice(star + 1)];
    let names: string[];
    try {
      names = listFolder(folder).filter(
        (name) => name.startsWith(prefix) && name.endsWith(suffix) && name.length >= prefix.length + suffix.length,
      );
    } catch {
      return false;
    }
    return names.length > 0 && names.every(linkPointsHere);
  };

  return (headers) => {
    const link = headers[ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER];
    if (typeof link !== 'string' || link === own || !ROUTE_SOCKET_NAME.test(link)) return false;
    const time = now();
    const cached = checked.get(link);
    if (cached && time - cached.at < intervalMs) return !cached.pointsHere;
    if (checked.size >= MAX_CACHED_LINKS) checked.clear();
    const fresh = { pointsHere: pointsHere(link), at: time };
    checked.set(link, fresh);
    return !fresh.pointsHere;
  };
}
