import type { BackendKind, CanaryEntry, HistoryEntry } from './history';

// Zod-free, so the dashboard's page shows the canary the server means without bundling the schemas.

/** The last canary of a backend, from its history lines (see {@link lastCanary}). */
export interface LastCanary {
  /** The `started` line of the last canary that started (a resumed run writes one too). */
  readonly started?: CanaryEntry;
  /** How that canary ended (the latest line after `started`, a refused start aside); absent while it runs or was interrupted. */
  readonly end?: CanaryEntry;
  /** The newest canary line when it is a start the preflight refused: nothing started, nothing moved. */
  readonly refused?: CanaryEntry;
}

/**
 * The last canary on `backend`, for `deploy:status` (the steps to resume with, the last analysis)
 * and the dashboard's canary card. A refused start is no canary (nothing started): it never
 * replaces `started` or `end`, and is reported apart when it is the newest canary line.
 * undefined when `backend` has no canary line.
 */
export function lastCanary(entries: readonly HistoryEntry[], backend: BackendKind): LastCanary | undefined {
  const canaries = entries.filter((entry): entry is CanaryEntry => entry.backend === backend && entry.command === 'canary');
  const newest = canaries.at(-1);
  if (!newest) return undefined;
  const refused = newest.outcome === 'refused' ? newest : undefined;
  const startIndex = canaries.findLastIndex((entry) => entry.outcome === 'started');
  const started = canaries[startIndex];
  const end = started ? canaries.slice(startIndex + 1).findLast((entry) => entry.outcome !== 'refused') : undefined;
  if (!started && !refused) return undefined;
  return { ...(started ? { started } : {}), ...(end ? { end } : {}), ...(refused ? { refused } : {}) };
}
