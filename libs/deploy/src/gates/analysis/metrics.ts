/**
 * The requests a color counted itself (`http_requests_total` on its /metrics), so the analysis can
 * say what the color saw beside what nginx saw. Only this one counter of the Prometheus text
 * format is read, so a small parser is used rather than a dependency.
 */

/** Requests a color answered, and how many of them were 5xx. Its own /metrics scrapes are left out. */
export interface RequestTotals {
  readonly requests: number;
  readonly errors: number;
}

const SAMPLE = /^http_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)/;

/** Sums `http_requests_total` from Prometheus text. Pure. */
export function requestTotals(text: string): RequestTotals {
  let requests = 0;
  let errors = 0;
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
    if (labels['route'] === '/metrics') continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    requests += value;
    if (Number(labels['status']) >= 500) errors += value;
  }
  return { requests, errors };
}

/** What was counted between two readings (a restarted color starts from 0: then `after` is the delta). */
export function delta(before: RequestTotals, after: RequestTotals): RequestTotals {
  if (after.requests < before.requests) return after;
  return { requests: after.requests - before.requests, errors: after.errors - before.errors };
}
