import type { EdgeError } from '@mlbg/contract';
import { timingSafeEqual } from 'node:crypto';

/**
 * Who may use the dashboard (as Jupyter does it): everyone with the token printed at start. The
 * token comes once in the URL (`?token=`) and is then kept in a cookie (HttpOnly, SameSite=Strict,
 * one per port since cookies ignore ports); scripts may send `Authorization: Bearer <token>`.
 * Actions also need an `Origin` that is the dashboard itself, so no other page can post to it.
 */

/** The JSON of every refusal at the edge, in the shape of the CLI's errors (the contract's). */
export type { EdgeError } from '@mlbg/contract';

export function cookieName(port: number): string {
  return `mlbg_dashboard_${port}`;
}

/** Compares in constant time, so the token can not be guessed one character at a time. */
export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** An action's Origin must be the page's own: `http://` + the Host it was asked on. */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  return origin !== undefined && host !== undefined && origin === `http://${host}`;
}

export const UNAUTHORIZED: EdgeError = {
  error: {
    code: 'UNAUTHORIZED',
    message: 'The dashboard needs its token.',
    hint: 'Open the URL `deploy dashboard` printed when it started (it ends in ?token=...), or send `Authorization: Bearer <token>`.',
  },
};

export const BAD_ORIGIN: EdgeError = {
  error: {
    code: 'BAD_ORIGIN',
    message: "An action must come from the dashboard's own page (its Origin header did not match).",
    hint: 'Use the buttons on the page; a script must send `Origin: http://<the host:port it connects to>`.',
  },
};

export const READ_ONLY: EdgeError = {
  error: {
    code: 'READ_ONLY',
    message: 'This dashboard was started with --read-only: it shows the deployment and changes nothing.',
    hint: 'Run the command with the CLI (`npx nx run deploy:<command>`), or start the dashboard without --read-only.',
  },
};
