import { ROUTER_CONNECTIONS } from '@mlbg/contract';

/**
 * Upstream keepalive, shorter-lived than the color's own idle timeout so nginx never reuses a
 * connection the color is closing. Written after any balancing method (nginx requires it there).
 */
export function keepaliveLines(keepalive: boolean): string[] {
  if (!keepalive) return [];
  const { ROUTER_KEEPALIVE_CONNECTIONS, ROUTER_KEEPALIVE_TIMEOUT_MS, ROUTER_KEEPALIVE_REQUESTS, ROUTER_KEEPALIVE_TIME_S } =
    ROUTER_CONNECTIONS;
  return [
    `  keepalive ${ROUTER_KEEPALIVE_CONNECTIONS};`,
    `  keepalive_timeout ${ROUTER_KEEPALIVE_TIMEOUT_MS}ms;`,
    `  keepalive_requests ${ROUTER_KEEPALIVE_REQUESTS};`,
    `  keepalive_time ${ROUTER_KEEPALIVE_TIME_S}s;`,
  ];
}

/** One server, never marked down (max_fails=0): a missing socket is answered per request. */
export function upstreamBlock(name: string, socketPath: string, keepalive: boolean): string[] {
  return [`upstream ${name} {`, `  server unix:${socketPath} max_fails=0;`, ...keepaliveLines(keepalive), '}'];
}
