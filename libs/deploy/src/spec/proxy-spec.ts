import { PREDICTIONS_ADMIN_PATH } from '@mlbg/contract';
import { z } from 'zod';

/** Paths a color serves for operators only; never through the public routes unless allowed. */
export const DEFAULT_INTERNAL_PATHS = ['/metrics'] as const;
export const DEFAULT_RATE_LIMIT_BURST = 50;
/**
 * nginx's timeouts towards a color: a unix socket connects at once or not at all; a model answers a
 * full batch well within 30 s. A color that hangs longer than `readSeconds` gets a JSON 504.
 */
export const DEFAULT_PROXY_TIMEOUTS = { connectSeconds: 2, sendSeconds: 30, readSeconds: 30 } as const;
/**
 * nginx passes a request whose replica fails (refused, reset, no answer in time) to one more replica
 * of the SAME color (the slot's own upstream): `tries` replicas at most, and only within
 * `withinSeconds` of the request's start, so a request that hangs every replica is not multiplied.
 */
export const DEFAULT_PROXY_RETRY = { tries: 2, withinSeconds: 10 } as const;
/** nginx takes larger values, but a client waiting an hour for one answer is a hang, not a timeout. */
const MAX_PROXY_TIMEOUT_SECONDS = 3600;

const TimeoutSeconds = (what: string) =>
  z
    .int({ error: `must be a whole number of seconds (${what})` })
    .min(1, `must be at least 1 second (${what}; nginx treats 0 as no time at all, not as no limit)`)
    .max(MAX_PROXY_TIMEOUT_SECONDS, `must be at most ${MAX_PROXY_TIMEOUT_SECONDS} seconds (${what})`);

/** `/metrics` (exact) or `/admin/` (a prefix: ends with a slash). */
const InternalPath = z
  .string()
  .regex(
    /^\/[a-z0-9][a-z0-9_/-]*$/,
    'must be a path such as "/metrics" (exact) or "/admin/" (everything under it): lowercase letters, digits, "_", "-" and "/"',
  )
  .refine((path) => !path.includes('//'), 'must not contain "//"');

/** An IPv4/IPv6 address or CIDR range, as nginx's `allow` takes it. */
const ClientAddress = z
  .string()
  .regex(/^([0-9.]+|[0-9a-fA-F:]+)(\/\d{1,3})?$/, 'must be an IP address or CIDR range, e.g. "10.0.0.0/8" or "127.0.0.1"');

/**
 * How nginx proxies (spec section `proxy`): upstream keepalive, which internal routes stay off the
 * public routes, its timeouts towards the colors, and an optional per-client request rate limit. Every field is optional.
 */
export const ProxySpec = z
  .strictObject({
    /** Kept connections from nginx to the colors (see docs/architecture.md, "Kept connections"); false opens one per request. */
    upstreamKeepalive: z.boolean().default(true),
    internalRoutes: z
      .strictObject({
        paths: z.array(InternalPath).default([...DEFAULT_INTERNAL_PATHS]),
        /** Serve them on the public routes to everyone (not recommended). */
        public: z.boolean().default(false),
        /** Client addresses that may reach them through the router anyway (e.g. a Prometheus outside the host). */
        allow: z.array(ClientAddress).default([]),
      })
      .prefault({}),
    /**
     * nginx's proxy_connect_timeout, proxy_send_timeout and proxy_read_timeout for every route; send and
     * read are between two successive writes or reads, so one request waits at most their sum.
     */
    timeouts: z
      .strictObject({
        connectSeconds: TimeoutSeconds('how long nginx waits to connect to a color').default(DEFAULT_PROXY_TIMEOUTS.connectSeconds),
        sendSeconds: TimeoutSeconds('how long nginx waits for a color to take more of a request').default(
          DEFAULT_PROXY_TIMEOUTS.sendSeconds,
        ),
        readSeconds: TimeoutSeconds('how long nginx waits for a color to answer, before its JSON 504').default(
          DEFAULT_PROXY_TIMEOUTS.readSeconds,
        ),
      })
      .prefault({}),
    /**
     * Retries on a sibling replica of the same color (proxy_next_upstream error timeout non_idempotent):
     * /predict has no side effect, so sending it again is safe; `tries: 1` never retries.
     */
    retry: z
      .strictObject({
        tries: z.int().min(1, 'must be at least 1 (1 = never retry)').max(32).default(DEFAULT_PROXY_RETRY.tries),
        withinSeconds: TimeoutSeconds('how long after its start a failed request may still go to another replica').default(
          DEFAULT_PROXY_RETRY.withinSeconds,
        ),
      })
      .prefault({}),
    /** Off unless given: at most `requestsPerSecond` per client address, `burst` more queued at once, then a JSON 429. */
    rateLimit: z
      .strictObject({
        requestsPerSecond: z.int().min(1).max(1_000_000),
        burst: z.int().min(0).max(1_000_000).default(DEFAULT_RATE_LIMIT_BURST),
      })
      .optional(),
  })
  .prefault({});
export type ProxySpec = z.infer<typeof ProxySpec>;

/** Where each color's admin routes live (`GET /admin/predictions`, ...). */
export const ADMIN_PREFIX = `/${PREDICTIONS_ADMIN_PATH.split('/')[1]}/`;

/**
 * The paths no public route of any router (nginx, the HTTPRoute, the Ingress) may serve: the
 * spec's list and the admin routes, which hold clients' recorded predictions even when the list
 * leaves them out; none when the spec makes them public.
 */
export function internalPaths(proxy: ProxySpec): string[] {
  if (proxy.internalRoutes.public) return [];
  return [...new Set([...proxy.internalRoutes.paths, ADMIN_PREFIX])];
}
