import { API_ERRORS } from '@mlbg/contract';

/**
 * The closed catalogue of answers nginx itself gives (in the service's `{detail, code}` shape),
 * when it can not or must not reach a color. Messages name the situation; the renderer appends
 * how to start the stack where it runs.
 */
export const ROUTER_ERRORS = {
  LIVE_UNAVAILABLE: {
    status: 503,
    message: 'The live color is not answering: its unix socket is missing or refuses connections.',
  },
  PREVIEW_UNAVAILABLE: {
    status: 503,
    message: 'The idle color is not running, so the preview route has nothing to reach (it never falls back to the live color).',
  },
  UPSTREAM_TIMEOUT: {
    status: 504,
    message: 'The color behind this route did not answer in time. Check its logs; the request id is in the X-Request-Id header.',
  },
  NOT_ROUTED: {
    status: 404,
    message: 'This path is served only on the port and the socket of each color, never through the router.',
  },
  // Same code and text as the service's own answer, so a client can not tell which one refused.
  BODY_TOO_LARGE: { status: 413, message: API_ERRORS.BODY_TOO_LARGE.message },
} as const satisfies Record<string, { status: number; message: string }>;
export type RouterErrorCode = keyof typeof ROUTER_ERRORS;
