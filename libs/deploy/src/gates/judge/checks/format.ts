/** `0.0123` -> `1.23%`. */
export function percent(share: number | null): string {
  return share === null ? 'n/a' : `${(100 * share).toFixed(2)}%`;
}

/** A p-value as people read it: 3 decimals, or 2 significant digits below 0.001. */
export function formatP(p: number | null): string {
  if (p === null) return 'n/a';
  if (p === 0) return '< 1e-300';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/** A number with at most 4 significant digits. */
export function short(value: number | null): string {
  return value === null ? 'n/a' : String(Number(value.toPrecision(4)));
}

/** The hint of a check that had too little data. */
export const MORE_TRAFFIC =
  'Send traffic, or let the canary probe (canary.lowTraffic "probe" with probes.samples in deploy/deployment.json).';
