import { ROUTER_CONNECTIONS } from '@mlbg/contract';
import { replicaNumbers, replicaSocket } from '../../spec/sockets';

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

/** The upstream nginx proxies a route link through: `mlbg_` and the link's name, e.g. `mlbg_live-slot-07`. */
export function linkUpstream(link: string): string {
  return `mlbg_${link}`;
}

/**
 * A route link's upstream: every replica socket of the color folder the link points at
 * (`<socketDir>/<link>/r1.sock`, ...), round-robin, never marked down (max_fails=0: a replica that is
 * gone costs a refused connect and the request goes on to a sibling, see proxy_next_upstream).
 * All its servers are one color by construction, so a retry never reaches the other color.
 */
export function linkUpstreamBlock(socketDir: string, link: string, replicas: number, keepalive: boolean): string[] {
  return [
    `upstream ${linkUpstream(link)} {`,
    ...replicaNumbers(replicas).map((replica) => `  server unix:${socketDir}/${link}/${replicaSocket(replica)} max_fails=0;`),
    ...keepaliveLines(keepalive),
    '}',
  ];
}
