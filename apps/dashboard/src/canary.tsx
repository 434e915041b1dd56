import {
  type CanaryEntry,
  type CanaryInterval,
  type CanaryOutcome,
  type CanaryView,
  type DashboardSnapshot,
  type JudgedCheck,
  type OutputHistogram,
  lastCanary,
} from '@mlbg/contract';

/** How a finished canary's state reads on the card. */
const ENDED: Partial<Record<CanaryOutcome, string>> = {
  promoted: 'promoted',
  'rolled-back': 'rolled back',
  aborted: 'aborted',
  stopped: 'stopped (weight moved back)',
  kept: 'stopped, weight kept',
  refused: 'refused by the preflight',
  broken: 'broken: moving the weight back failed',
};
const FAILED = new Set<string>(['rolled-back', 'refused', 'broken']);

/**
 * The canary the card shows: the last one's `started` line and its end (the server's own
 * `lastCanary`); a start the preflight refused after it is shown as that refusal (nothing started).
 */
function shownCanary(snapshot: DashboardSnapshot): { started: CanaryEntry | null; end: CanaryEntry | null } | null {
  const last = lastCanary(snapshot.history.entries, snapshot.backend);
  if (!last) return null;
  if (last.refused) return { started: null, end: last.refused };
  return { started: last.started ?? null, end: last.end ?? null };
}

const percent = (rate: number | null) => (rate === null ? 'n/a' : `${(100 * rate).toFixed(2)}%`);
const ms = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value)} ms`);

/**
 * A canary's progress: its state, weight, step, the time to its next analysis and its last
 * analysis (per color: requests, 5xx share, p99; the verdict and the checks that failed); once it
 * ended, how (promoted, rolled back and why). Shown while a canary runs and after the last one.
 */
export function CanaryCard(props: { snapshot: DashboardSnapshot }) {
  const { snapshot } = props;
  const view: CanaryView | null = snapshot.stack.status?.canary ?? null;
  const last = shownCanary(snapshot);
  if (!view && !last) return null;
  // A canary that ended after the split was last seen, or before any: the history says how.
  const ended = !view && last?.end ? last.end : null;
  const started = last?.started ?? null;
  // Colors, versions and steps: every canary line carries them.
  const head = started ?? ended;
  const state = view
    ? view.state === 'running'
      ? 'running'
      : `interrupted at ${view.weight}%`
    : ended
      ? (ENDED[ended.outcome] ?? ended.outcome)
      : 'starting (preflight, warm-up)';
  const stateKey = view ? view.state : ended ? ended.outcome : 'starting';
  const canary = view?.canary ?? head?.canary ?? null;
  const stable = view?.stable ?? head?.stable ?? null;
  const version = (color: string | null, fromHistory: string | null | undefined) =>
    color ? (snapshot.stack.details[color as 'blue' | 'green']?.version ?? fromHistory ?? '?') : '?';
  const weight = view?.weight ?? ended?.weight ?? 0;
  const steps = view?.steps ?? head?.steps ?? null;
  const analysis = view?.lastAnalysis ?? ended?.intervals?.at(-1) ?? null;
  // The status says how long the analysis was away when it was read; count down from there.
  const dueAt = view?.nextAnalysisInMs != null ? Date.parse(snapshot.stack.checkedAt) + view.nextAnalysisInMs : null;
  const seconds = dueAt === null ? null : Math.max(0, Math.round((dueAt - Date.now()) / 1000));
  return (
    <section class={`card card-canary canary-${FAILED.has(stateKey) ? 'failed' : 'ok'}`} data-testid="canary-card" data-state={stateKey}>
      <h2>
        Canary{' '}
        <span class={`role canary-state-${stateKey}`} data-testid="canary-state">
          {state}
        </span>
      </h2>
      <p>
        {canary ?? '?'} ({version(canary, head?.canaryVersion)}) against the stable {stable ?? '?'} ({version(stable, head?.stableVersion)})
        {head && (
          <span class="muted">
            {' '}
            · {started ? 'started' : 'asked'} by {head.user} at {new Date(head.time).toLocaleTimeString()}
          </span>
        )}
      </p>
      <div class="weight" title={`${canary ?? 'canary'} gets ${weight}% of live traffic`}>
        <div class={`weight-bar weight-${canary ?? 'none'}`} style={{ width: `${weight}%` }} />
        <span class="weight-text" data-testid="canary-weight" data-weight={weight}>
          {weight}% of live traffic on {canary ?? 'the canary'}
        </span>
      </div>
      {steps && (
        <p data-testid="canary-step" data-step={view?.step ?? ''}>
          {view?.step ? `step ${view.step} of ${steps.length}` : 'steps'}:{' '}
          {steps.map((step, index) => (
            <span key={step} class={`step ${view?.step === index + 1 ? 'step-now' : ''}`}>
              {step}%
            </span>
          ))}
          {seconds !== null && (
            <span class="muted" data-testid="canary-next">
              {' '}
              · next analysis in {seconds} s
            </span>
          )}
          {view?.pid && <span class="muted"> · pid {view.pid}</span>}
        </p>
      )}
      {ended?.reason && <p class="reason">{ended.reason}</p>}
      {view?.state === 'interrupted' && (
        <p class="note">
          Nothing runs this canary now (killed, or stopped with --keep): resume it with `deploy canary --resume`, or abort or promote it
          here.
        </p>
      )}
      {analysis && <Analysis interval={analysis} />}
    </section>
  );
}

function Analysis(props: { interval: CanaryInterval }) {
  const { interval } = props;
  const failed = interval.checks.filter((check) => !check.ok);
  return (
    <div class="analysis" data-testid="canary-analysis" data-verdict={interval.verdict}>
      <p>
        last analysis at {interval.weight}% ({(interval.durationMs / 1000).toFixed(1)} s
        {interval.probesSent ? `, ${interval.probesSent} probes` : ''}):{' '}
        <strong class={interval.verdict === 'pass' ? 'ok' : 'bad'}>{interval.verdict}</strong>
      </p>
      <table>
        <thead>
          <tr>
            <th />
            <th>requests</th>
            <th>5xx share</th>
            <th>p99</th>
          </tr>
        </thead>
        <tbody>
          {(['canary', 'stable'] as const).map((role) => {
            const sample = interval[role];
            return (
              <tr key={role} data-testid={`canary-analysis-${role}`}>
                <th class={`now-${sample.color}`}>
                  {sample.color} ({role})
                </th>
                <td>{sample.requests}</td>
                <td>{percent(sample.errorRate)}</td>
                <td>{ms(sample.p99Ms)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {interval.judgement && <Checks checks={interval.judgement.checks} />}
      {interval.judgement?.histogram && (
        <Histograms histogram={interval.judgement.histogram} canary={interval.canary.color} stable={interval.stable.color} />
      )}
      {!interval.judgement && failed.length > 0 && (
        <ul class="gates">
          {failed.map((check) => (
            <li key={check.name} class="bad">
              ✗ {check.name}: {String(check.observed)} <span class="muted">(expected {String(check.expected)})</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A number as people read it: at most 3 significant digits; p-values below 0.001 in exponent form. */
function short(value: number | null): string {
  if (value === null) return 'n/a';
  if (value !== 0 && Math.abs(value) < 0.001) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}

/** The judge's checks of one interval: test statistic, p-value (Holm-adjusted), effect against its limit, samples, verdict. */
function Checks(props: { checks: readonly JudgedCheck[] }) {
  return (
    <table class="checks" data-testid="canary-checks">
      <thead>
        <tr>
          <th>check</th>
          <th>statistic</th>
          <th>p (Holm)</th>
          <th>effect / limit</th>
          <th>n canary / stable (min)</th>
          <th>verdict</th>
        </tr>
      </thead>
      <tbody>
        {props.checks.map((check) => (
          <tr key={check.name} data-check={check.name} data-verdict={check.verdict} title={`${check.test}: ${check.observed}`}>
            <th>{check.name}</th>
            <td>{short(check.statistic)}</td>
            <td>
              {short(check.pValue)} ({short(check.adjustedP)}) &le; {check.alpha}?
            </td>
            <td>{check.effect ? `${short(check.effect.value)} / ${short(check.effect.limit)}` : ''}</td>
            <td>
              {check.samples.canary} / {check.samples.stable ?? '-'} ({check.samples.minimum})
            </td>
            <td class={check.verdict === 'pass' ? 'ok' : check.verdict === 'waived' ? 'muted' : 'bad'}>{check.verdict}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The two colors' answers side by side: bars per bin (or label), each color's share of its own answers. */
function Histograms(props: { histogram: OutputHistogram; canary: string; stable: string }) {
  const { histogram } = props;
  const names =
    histogram.kind === 'labels'
      ? histogram.labels
      : histogram.edges.slice(0, -1).map((edge, i) => `${short(edge)}..${short(histogram.edges[i + 1] ?? edge)}`);
  const total = (counts: readonly number[]) =>
    Math.max(
      1,
      counts.reduce((sum, count) => sum + count, 0),
    );
  const [canaryTotal, stableTotal] = [total(histogram.canary), total(histogram.stable)];
  const bar = (count: number, of: number, color: string) => (
    <span
      class={`bar now-${color}`}
      style={{ width: `${(100 * count) / of}%` }}
      title={`${color}: ${count} (${short((100 * count) / of)}%)`}
    />
  );
  return (
    <div class="histograms" data-testid="canary-histograms">
      <p class="muted">
        answers: {props.canary} (canary) against {props.stable} (stable), share of each color's own answers
      </p>
      <table>
        <tbody>
          {names.map((name, i) => (
            <tr key={name}>
              <th>{name}</th>
              <td class="bars">
                {bar(histogram.canary[i] ?? 0, canaryTotal, props.canary)}
                {bar(histogram.stable[i] ?? 0, stableTotal, props.stable)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
