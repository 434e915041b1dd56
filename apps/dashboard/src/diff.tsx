import { useState } from 'preact/hooks';
import type { DiffResult } from './wire';

type Answer = { ok: true; result: DiffResult } | { ok: false; error: { message: string; hint: string } };

const number = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3));

/** `deploy:diff` on the page: the idle color's answers against the live one's, with the histogram of |diff|. */
export function DiffPanel() {
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [busy, setBusy] = useState(false);
  const compare = async () => {
    setBusy(true);
    try {
      setAnswer((await (await fetch('api/diff')).json()) as Answer);
    } catch (error) {
      setAnswer({ ok: false, error: { message: `The dashboard server did not answer: ${String(error)}`, hint: '' } });
    } finally {
      setBusy(false);
    }
  };
  const report = answer?.ok ? answer.result.report : null;
  const peak = Math.max(1, ...(report?.histogram.map((bin) => bin.count) ?? []));
  return (
    <section class="diff card" data-testid="diff">
      <h2>Prediction diff</h2>
      <button onClick={() => void compare()} disabled={busy}>
        {busy ? 'Comparing…' : 'Compare idle with live'}
      </button>
      {answer && !answer.ok && (
        <p class="banner banner-error">
          {answer.error.message}
          <span class="hint"> {answer.error.hint}</span>
        </p>
      )}
      {answer?.ok && report && (
        <div class="diff-report">
          <p data-testid="diff-summary" data-pairs={report.pairs}>
            {report.candidate.color} {report.candidate.version ?? '?'} against the live {report.live.color} {report.live.version ?? '?'} ({report.source}): {report.pairs} pairs,{' '}
            {report.withinShare === null ? 'nothing to compare' : `${(report.withinShare * 100).toFixed(1)}% within |diff| ≤ ${report.tolerance.absolute} + ${report.tolerance.relative}·|live|`}
            {report.absDiff && ` · |diff| mean ${number(report.absDiff.mean)}, p99 ${number(report.absDiff.p99)}, max ${number(report.absDiff.max)}`}
          </p>
          {answer.result.judged && (
            <p class={answer.result.problems.length === 0 ? 'ok' : 'bad'}>{answer.result.problems.length === 0 ? 'The prediction-diff gate would pass.' : `The prediction-diff gate would refuse: ${answer.result.problems.join('; ')}.`}</p>
          )}
          {answer.result.notes.map((note) => (
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
