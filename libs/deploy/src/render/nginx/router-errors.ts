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
  // Same code and text as the service's own answer, so a client can not tell which one refused.
  BODY_TOO_LARGE: { status: 413, message: API_ERRORS.BODY_TOO_LARGE.message },
  // What nginx refuses before any color sees the request (its own HTML pages otherwise).
  BAD_REQUEST: {
    status: 400,
    message: 'The request is not valid HTTP (a malformed request line or header). Check the client that sent it.',
  },
  URI_TOO_LONG: {
    status: 414,
    message: 'The request URI is longer than the router accepts. Send the data in a POST body instead of the URL.',
  },
  // 431, as the color itself answers a header block over its limit (nginx logs it as 494).
  HEADERS_TOO_LARGE: {
    status: 431,
    message: 'A request header (or all of them together) is larger than the router accepts. Send smaller headers or cookies.',
  },
  NOT_FOUND: { status: 404, message: API_ERRORS.NOT_FOUND.message },
  INTERNAL_ROUTE: {
    status: 404,
    message:
      'This route is internal and not served through the router. Reach each color on its own port (docs/operate.md, Monitoring), or list your address in deploy/deployment.json under proxy.internalRoutes.allow.',
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests from this client address. Slow down and retry shortly.' },
} as const satisfies Record<string, { status: number; message: string }>;
export type RouterErrorCode = keyof typeof ROUTER_ERRORS;
