import { useState } from 'preact/hooks';
import type { DiffAnswer, LastDiff } from '@mlbg/contract';

type Failure = { readonly error: { readonly message: string; readonly hint: string } };

const number = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3));

/**
 * The latest prediction-diff report, shown without asking (pushed by the server whenever
 * `deploy diff`, a diff gate or this page's compare made one), with when and by what; and
 * `deploy:diff` on the page: the idle color's answers against the live one's, with the histogram of |diff|.
 */
export function DiffPanel(props: { latest: LastDiff | null; canCompare: boolean }) {
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);
  const compare = async () => {
    setBusy(true);
    setFailure(null);
    try {
      // A report made here comes back as the latest one through the event stream. A POST: the
      // compare keeps its report and loads the idle color (the browser adds the page's Origin).
      const answer = (await (await fetch('api/diff', { method: 'POST' })).json()) as DiffAnswer;
      if (!answer.ok) setFailure(answer);
    } catch (error) {
      setFailure({ error: { message: `The dashboard server did not answer: ${String(error)}`, hint: '' } });
    } finally {
      setBusy(false);
    }
  };
  const latest = props.latest;
  const result = latest?.result ?? null;
  const report = result?.report ?? null;
  const peak = Math.max(1, ...(report?.histogram.map((bin) => bin.count) ?? []));
  return (
    <section class="diff card" data-testid="diff">
      <h2>Prediction diff</h2>
      {props.canCompare && (
        <button onClick={() => void compare()} disabled={busy}>
          {busy ? 'Comparing…' : 'Compare idle with live'}
        </button>
      )}
      {failure && (
        <p class="banner banner-error">
          {failure.error.message}
          <span class="hint"> {failure.error.hint}</span>
        </p>
      )}
      {!latest && (
        <p class="muted">No report yet: `deploy diff`, a switch or canary with the prediction-diff gate, or the compare button make one.</p>
      )}
      {latest && result && report && (
        <div class="diff-report">
          <p class="muted" data-testid="diff-made" data-by={latest.by}>
            latest report, made {new Date(latest.time).toLocaleString()} by {latest.by} ({latest.user})
          </p>
          <p data-testid="diff-summary" data-pairs={report.pairs}>
            {report.candidate.color} {report.candidate.version ?? '?'} against the live {report.live.color} {report.live.version ?? '?'} (
            {report.source}): {report.pairs} pairs,{' '}
            {report.withinShare === null
              ? 'nothing to compare'
              : `${(report.withinShare * 100).toFixed(1)}% within |diff| ≤ ${report.tolerance.absolute} + ${report.tolerance.relative}·|live|`}
            {report.absDiff &&
              ` · |diff| mean ${number(report.absDiff.mean)}, p99 ${number(report.absDiff.p99)}, max ${number(report.absDiff.max)}`}
          </p>
          {result.judged && (
            <p class={result.problems.length === 0 ? 'ok' : 'bad'}>
              {result.problems.length === 0
                ? 'The prediction-diff gate would pass.'
                : `The prediction-diff gate would refuse: ${result.problems.join('; ')}.`}
            </p>
          )}
          {result.notes.map((note) => (
            <p key={note} class="note">
              {note}
            </p>
          ))}
          <div class="histogram" data-testid="diff-histogram">
            {report.histogram.map((bin) => (
              <div key={bin.from} class="bin" title={`${number(bin.from)} – ${number(bin.to)}: ${bin.count}`}>
                <div class="bar" style={{ height: `${(bin.count / peak) * 100}%` }} />
                <span class="bin-label">{number(bin.from)}</span>
              </div>
            ))}
          </div>
        </div>
      )}
    </section>
  );
}
