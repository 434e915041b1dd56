/**
 * How nginx and a color share kept (upstream keep-alive) connections. Both sides read these
 * numbers, so their order can not drift apart:
 *
 * - nginx closes an idle kept connection after `ROUTER_KEEPALIVE_TIMEOUT_MS`; a color closes one
 *   only after `COLOR_KEEP_ALIVE_TIMEOUT_MS`, which is longer. So nginx never sends a request on a
 *   connection the color is closing (the race a reload loses POSTs to).
 * - nginx names the route link a request went through in `ROUTE_SOCKET_HEADER` (`preview`,
 *   `live-slot-07`). A replica that finds that link no longer points at its color's folder answers
 *   with `Connection: close`, and nginx drops the connection instead of keeping it. The replica
 *   reads the links at most once per `LINK_CHECK_INTERVAL_MS`.
 */
export const ROUTER_CONNECTIONS = {
  /** nginx `keepalive_timeout` in each upstream (idle kept connection). */
  ROUTER_KEEPALIVE_TIMEOUT_MS: 1_000,
  /** The color's `server.keepAliveTimeout` on its unix socket: longer than nginx's, by a margin a busy machine can not eat. */
  COLOR_KEEP_ALIVE_TIMEOUT_MS: 5_000,
  /** nginx `keepalive` per upstream: idle connections kept per worker. */
  ROUTER_KEEPALIVE_CONNECTIONS: 64,
  /** nginx `keepalive_requests` and `keepalive_time`: a backstop bound on one connection's life. */
  ROUTER_KEEPALIVE_REQUESTS: 10_000,
  ROUTER_KEEPALIVE_TIME_S: 60,
  /** How stale a color's view of a socket link may be. */
  LINK_CHECK_INTERVAL_MS: 100,
  /** The request header nginx sets to the route link's file name. */
  ROUTE_SOCKET_HEADER: 'x-mlbg-socket',
} as const;

/**
 * A bound on when every new request through a route reaches the color its link points at now:
 * the color notices the move within the link check interval and retires each busy connection on
 * its next answer; an idle one is closed by nginx after its keepalive timeout. Plus one in-flight
 * request's time, which the caller adds.
 */
export const ROUTE_MOVE_BOUND_MS = ROUTER_CONNECTIONS.LINK_CHECK_INTERVAL_MS + ROUTER_CONNECTIONS.ROUTER_KEEPALIVE_TIMEOUT_MS;

/** A route link name nginx may send: a plain file name, never a path (`live-slot-07`, `preview`). */
export const ROUTE_LINK_NAME = /^[a-z0-9][a-z0-9._-]*$/;
