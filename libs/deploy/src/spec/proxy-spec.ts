import { z } from 'zod';

/** Paths a color serves for operators only; never through the public routes unless allowed. */
export const DEFAULT_INTERNAL_PATHS = ['/metrics'] as const;
export const DEFAULT_RATE_LIMIT_BURST = 50;

/** `/metrics` (exact) or `/admin/` (a prefix: ends with a slash). */
const InternalPath = z
  .string()
  .regex(/^\/[a-z0-9][a-z0-9_/-]*$/, 'must be a path such as "/metrics" (exact) or "/admin/" (everything under it): lowercase letters, digits, "_", "-" and "/"')
  .refine((path) => !path.includes('//'), 'must not contain "//"');

/** An IPv4/IPv6 address or CIDR range, as nginx's `allow` takes it. */
const ClientAddress = z
  .string()
  .regex(/^([0-9.]+|[0-9a-fA-F:]+)(\/\d{1,3})?$/, 'must be an IP address or CIDR range, e.g. "10.0.0.0/8" or "127.0.0.1"');

/**
 * How nginx proxies (spec section `proxy`): upstream keepalive, which internal routes stay off the
 * public routes, and an optional per-client request rate limit. Every field is optional.
 */
export const ProxySpec = z
  .strictObject({
    /** Kept connections from nginx to the colors (see libs/deploy/README.md, "Kept connections"); false opens one per request. */
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
