import type { FailureRecord, PhaseReport } from './soak-load-worker';

/** What the soak did to the stack, in order, with when it started and ended (ms since the epoch). */
export interface SoakEvent {
  readonly kind: 'switch' | 'kill' | 'canary';
  readonly startedAt: number;
  readonly endedAt: number;
  /** `blue -> green`, `green-2`, `canary of green (promoted)`. */
  readonly what: string;
  /** The command did what was asked (switched, promoted or rolled back as planned, the replica came back). */
  readonly ok: boolean;
  readonly outcome: string;
}

/** The issue's minimum for a soak whose numbers go into the docs. */
export const SOAK_MINIMUMS = { requests: 1_000_000, switches: 100, kills: 20 } as const;

export interface SoakResult {
  readonly date: string;
  readonly cores: number;
  readonly loadAverageAtStart: number;
  readonly clients: number;
  readonly replicas: number;
  readonly requests: number;
  readonly failed: number;
  readonly failedByKind: Readonly<Record<string, number>>;
  readonly durationSeconds: number;
  readonly switches: { readonly attempted: number; readonly switched: number; readonly outcomes: Readonly<Record<string, number>> };
  readonly kills: { readonly count: number; readonly backAfterMs: { readonly p50: number | null; readonly max: number | null } };
  readonly canaries: readonly { readonly what: string; readonly outcome: string; readonly ok: boolean }[];
  readonly phases: readonly PhaseReport[];
  /** Each failed request attributed to the event it happened during (or just after), else to none. */
  readonly failuresByEvent: readonly {
    readonly event: string;
    readonly at: string;
    readonly failed: number;
    readonly kinds: Record<string, number>;
  }[];
  readonly failuresDropped: number;
  readonly events: readonly SoakEvent[];
  /** True when the run met every minimum of the issue (a million requests, 100 switches, 20 kills, both canaries). */
  readonly complete: boolean;
}

/** How long after an event ends a failure is still laid at its door (a restart's last 503s, a retired connection). */
const AFTERMATH_MS = 2_000;

/**
 * Lays each failure at the door of the event it happened during (or within 2 s after); failures
 * outside every event are `none`. Pure.
 */
export function attributeFailures(
  failures: readonly FailureRecord[],
  events: readonly SoakEvent[],
): { event: string; at: string; failed: number; kinds: Record<string, number> }[] {
  const rows = new Map<string, { event: string; at: string; failed: number; kinds: Record<string, number> }>();
  for (const failure of failures) {
    const event = [...events].reverse().find((item) => failure.at >= item.startedAt && failure.at <= item.endedAt + AFTERMATH_MS);
    const key = event ? `${event.kind} ${event.what} @${event.startedAt}` : 'none';
    const row = rows.get(key) ?? {
      event: event ? `${event.kind} ${event.what}` : 'none (no event near it)',
      at: event ? new Date(event.startedAt).toISOString() : '-',
      failed: 0,
      kinds: {},
    };
    row.failed += 1;
    row.kinds[failure.kind] = (row.kinds[failure.kind] ?? 0) + 1;
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** The median and the maximum, or null for none. Pure. */
export function medianAndMax(values: readonly number[]): { p50: number | null; max: number | null } {
  if (values.length === 0) return { p50: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor((sorted.length - 1) / 2)] ?? null, max: sorted[sorted.length - 1] ?? null };
}

/** The whole soak from its phases and events. Pure. */
export function soakResult(input: {
  readonly date: string;
  readonly cores: number;
  readonly loadAverageAtStart: number;
  readonly clients: number;
  readonly replicas: number;
  readonly phases: readonly PhaseReport[];
  readonly failures: readonly FailureRecord[];
  readonly failuresDropped: number;
  readonly events: readonly SoakEvent[];
}): SoakResult {
  const { phases, events } = input;
  const requests = phases.reduce((sum, phase) => sum + phase.requests, 0);
  const failed = phases.reduce((sum, phase) => sum + phase.failed, 0);
  const failedByKind: Record<string, number> = {};
  for (const phase of phases)
    for (const [kind, count] of Object.entries(phase.kinds)) failedByKind[kind] = (failedByKind[kind] ?? 0) + count;
  const switches = events.filter((event) => event.kind === 'switch');
  const outcomes: Record<string, number> = {};
  for (const event of switches) outcomes[event.outcome] = (outcomes[event.outcome] ?? 0) + 1;
  const kills = events.filter((event) => event.kind === 'kill');
  const canaries = events.filter((event) => event.kind === 'canary');
  const first = phases[0]?.startedAt ?? 0;
  const last = phases[phases.length - 1]?.endedAt ?? first;
  const switched = outcomes['switched'] ?? 0;
  return {
    date: input.date,
    cores: input.cores,
    loadAverageAtStart: input.loadAverageAtStart,
    clients: input.clients,
    replicas: input.replicas,
    requests,
    failed,
    failedByKind,
    durationSeconds: Math.round((last - first) / 100) / 10,
    switches: { attempted: switches.length, switched, outcomes },
    kills: {
      count: kills.filter((event) => event.ok).length,
      backAfterMs: medianAndMax(kills.map((event) => event.endedAt - event.startedAt)),
    },
    canaries: canaries.map((event) => ({ what: event.what, outcome: event.outcome, ok: event.ok })),
    phases,
    failuresByEvent: attributeFailures(input.failures, events),
    failuresDropped: input.failuresDropped,
    events,
    complete:
      requests >= SOAK_MINIMUMS.requests &&
      switched >= SOAK_MINIMUMS.switches &&
      kills.filter((event) => event.ok).length >= SOAK_MINIMUMS.kills &&
      canaries.some((event) => event.ok && event.outcome === 'promoted') &&
      canaries.some((event) => event.ok && event.outcome === 'rolled-back'),
  };
}

/** The report people read. Pure. */
export function soakMarkdown(result: SoakResult): string {
  const number = (value: number) => value.toLocaleString('en-US');
  const kinds = (record: Readonly<Record<string, number>>) =>
    Object.keys(record).length === 0
      ? '-'
      : Object.entries(record)
          .map(([kind, count]) => `${kind} ${number(count)}`)
          .join(', ');
  return [
    `Soak, ${result.date}: ${result.cores} cores, load average at start ${result.loadAverageAtStart.toFixed(2)}, ${result.clients} keep-alive clients POSTing /predict (3 rows) through nginx without pause, ${result.replicas} replicas per color.${result.complete ? '' : " NOT a full soak: below the issue's minimums (1,000,000 requests, 100 switches, 20 kills, a promoted and a rolled-back canary)."}`,
    '',
    `- Requests: ${number(result.requests)} in ${result.durationSeconds} s (${number(Math.round(result.requests / Math.max(result.durationSeconds, 0.001)))} req/s); failed: ${number(result.failed)}${result.failed ? ` (${kinds(result.failedByKind)})` : ''}.`,
    `- Switches: ${result.switches.switched} switched of ${result.switches.attempted} (${kinds(result.switches.outcomes)}).`,
    `- kill -9 of single live replicas: ${result.kills.count}; each back and ready after ${result.kills.backAfterMs.p50 ?? '-'} ms (median), ${result.kills.backAfterMs.max ?? '-'} ms (max).`,
    ...result.canaries.map((canary) => `- Canary: ${canary.what}: ${canary.outcome}${canary.ok ? '' : ' (NOT as planned)'}.`),
    '',
    '| phase | seconds | requests | req/s | failed | p50 ms | p99 ms | max ms | versions |',
    '|---|--:|--:|--:|--:|--:|--:|--:|---|',
    ...result.phases.map((phase) => {
      const seconds = Math.max(0.001, (phase.endedAt - phase.startedAt) / 1000);
      return `| ${phase.phase} | ${seconds.toFixed(1)} | ${number(phase.requests)} | ${number(Math.round(phase.requests / seconds))} | ${phase.failed ? `${number(phase.failed)} (${kinds(phase.kinds)})` : 0} | ${phase.latency.p50Ms.toFixed(1)} | ${phase.latency.p99Ms.toFixed(1)} | ${phase.latency.maxMs.toFixed(1)} | ${kinds(phase.versions)} |`;
    }),
    ...(result.failuresByEvent.length === 0
      ? ['', 'No request failed.']
      : [
          '',
          'Failed requests by the event they happened during (or within 2 s after):',
          '',
          '| event | started | failed | kinds |',
          '|---|---|--:|---|',
          ...result.failuresByEvent.map((row) => `| ${row.event} | ${row.at} | ${number(row.failed)} | ${kinds(row.kinds)} |`),
          ...(result.failuresDropped ? [`(${number(result.failuresDropped)} more failures were counted but not kept one by one.)`] : []),
        ]),
  ].join('\n');
}
