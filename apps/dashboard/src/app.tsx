import { Fragment } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { CanaryCard } from './canary';
import { Chart, type Mark } from './chart';
import { DiffPanel } from './diff';
import { type ActionCall, type Connection, type LiveState, WINDOW_MS, runAction } from './live';
import {
  type ActionName,
  COLORS,
  type Color,
  type ColorDetail,
  type ColorStatus,
  type DashboardSnapshot,
  type HistoryEntry,
  type Weights,
  describeWeights,
  otherColor,
  soleTarget,
} from '@mlbg/contract';

/** Commands that move a route or a color: a mark on the charts. */
const MARKED = new Set(['switch', 'rollback', 'release', 'canary', 'promote', 'shadow']);
/** Outcomes that did not do what was asked: red marks and entries. */
const FAILED_OUTCOMES = new Set(['refused', 'reverted', 'broken', 'failed']);

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting… (the dashboard server is not answering)',
  unauthorized: 'the dashboard was restarted: open the new URL it printed',
};

/** `blue` when one color has it all, else `blue 75% / green 25%`. */
function describe(weights: Weights): string {
  return soleTarget(weights) ?? describeWeights(weights);
}

function versionOf(snapshot: DashboardSnapshot, color: Color): string {
  return snapshot.stack.details[color]?.version ?? snapshot.stack.status?.colors?.[color].health.version ?? 'version unknown';
}

/** The charts' windows to choose from; the issue's 15 minutes by default (all the server keeps). */
const WINDOWS: readonly (readonly [string, number])[] = [
  ['1 min', 60_000],
  ['5 min', 5 * 60_000],
  ['15 min', WINDOW_MS],
];

export function App(props: { live: LiveState }) {
  const { snapshot, connection, tick } = props.live;
  const [windowMs, setWindowMs] = useState(WINDOW_MS);
  const marks = useMemo<Mark[]>(
    () =>
      (snapshot?.history.entries ?? [])
        .filter((entry) => MARKED.has(entry.command))
        .map((entry) => ({ t: Date.parse(entry.time), ok: !FAILED_OUTCOMES.has(entry.outcome), label: markLabel(entry) })),
    [snapshot?.history.entries],
  );
  return (
    <main>
      <header>
        <h1>Deploy dashboard</h1>
        <span class={`connection connection-${connection}`} data-testid="connection">
          {CONNECTION_TEXT[connection]}
        </span>
        {snapshot && (
          <span class="meta">
            {snapshot.backend} · {snapshot.stack.status?.stack ?? 'status unknown'} ·{' '}
            {snapshot.readOnly ? 'read-only' : `acting as ${snapshot.user}`}
          </span>
        )}
      </header>
      {!snapshot ? (
        <p>Waiting for the dashboard server…</p>
      ) : (
        <>
          {snapshot.stack.error && (
            <p class="banner banner-error" data-testid="stack-error">
              Can not read the deployment: {snapshot.stack.error}
            </p>
          )}
          <section class="colors">
            {COLORS.map((color) => (
              <ColorCard
                key={color}
                color={color}
                status={snapshot.stack.status?.colors?.[color] ?? null}
                detail={snapshot.stack.details[color]}
              />
            ))}
            <Routes snapshot={snapshot} />
          </section>
          <CanaryCard snapshot={snapshot} />
          {!snapshot.readOnly && snapshot.actions.length > 0 && <Actions snapshot={snapshot} live={props.live} />}
          <div class="window" role="group" aria-label="chart window">
            {WINDOWS.map(([label, ms]) => (
              <button key={label} class={ms === windowMs ? 'selected' : ''} aria-pressed={ms === windowMs} onClick={() => setWindowMs(ms)}>
                {label}
              </button>
            ))}
            <span class="muted">
              lines: blue and green from their /metrics, dashed grey from nginx's access log (what clients saw); marks: switches, rollbacks,
              releases, canaries, shadow
            </span>
          </div>
          <section class="charts">
            <Chart title="Requests per second" metric="rps" samples={snapshot.samples} marks={marks} tick={tick} windowMs={windowMs} />
            <Chart title="Error share (5xx)" metric="errorShare" samples={snapshot.samples} marks={marks} tick={tick} windowMs={windowMs} />
            <Chart title="Latency p50" metric="p50Ms" samples={snapshot.samples} marks={marks} tick={tick} windowMs={windowMs} />
            <Chart title="Latency p99" metric="p99Ms" samples={snapshot.samples} marks={marks} tick={tick} windowMs={windowMs} />
          </section>
          {(snapshot.stack.status?.shadow || snapshot.diff) && (
            <DiffPanel latest={snapshot.diff} canCompare={Boolean(snapshot.stack.status?.shadow) && !snapshot.readOnly} />
          )}
          <Timeline entries={snapshot.history.entries} skipped={snapshot.history.skippedLines} />
        </>
      )}
    </main>
  );
}

function markLabel(entry: HistoryEntry): string {
  if (entry.command === 'canary')
    return `canary ${entry.canary} ${entry.outcome}${entry.outcome === 'started' ? '' : ` at ${entry.weight}%`}`;
  if ('from' in entry) return `${entry.command} ${entry.from}→${entry.to}${entry.outcome === 'switched' ? '' : ` (${entry.outcome})`}`;
  if (entry.command === 'shadow') return `shadow ${entry.outcome}`;
  if (entry.command === 'release') return `release${entry.color ? ` ${entry.color}` : ''}${entry.version ? ` ${entry.version}` : ''}`;
  return entry.command;
}

function ColorCard(props: { color: Color; status: ColorStatus | null; detail: ColorDetail | null }) {
  const { color, status, detail } = props;
  const health = status?.health;
  return (
    <article
      class={`card card-${color}`}
      data-testid={`color-${color}`}
      data-role={status?.role ?? ''}
      data-health={health?.ok ? 'ok' : 'down'}
    >
      <h2>
        {color} {status?.role && <span class={`role role-${status.role}`}>{status.role}</span>}
      </h2>
      <dl>
        <dt>version</dt>
        <dd data-testid={`version-${color}`}>{detail?.version ?? health?.version ?? '–'}</dd>
        <dt>health</dt>
        <dd class={health?.ok ? 'ok' : 'bad'}>
          {health ? (health.ok ? 'ok' : `${health.status ?? 'no answer'}${health.error ? `: ${health.error}` : ''}`) : '–'}
        </dd>
        <dt>model</dt>
        <dd>{status?.model ?? '–'}</dd>
        <dt>sha256</dt>
        <dd class="mono" title={detail?.sha256}>
          {detail ? detail.sha256.slice(0, 16) : '–'}
        </dd>
        <dt>signature</dt>
        <dd>{detail ? signatureText(detail) : '–'}</dd>
        <dt>process</dt>
        <dd>
          {status ? `${status.process}${status.pid ? ` (pid ${status.pid})` : ''}${status.container ? ` (${status.container})` : ''}` : '–'}
          {status?.url && <span class="muted"> {status.url}</span>}
        </dd>
        {status?.replicaList && (
          <>
            <dt>replicas</dt>
            <dd data-testid={`replicas-${color}`}>
              {status.replicas ? `${status.replicas.ready}/${status.replicas.desired} healthy` : ''}
              <ul class="replicas">
                {status.replicaList.map((replica) => (
                  <li key={replica.name} class={replica.health.ok ? 'ok' : 'bad'} data-testid={`replica-${replica.name}`}>
                    {replica.name}
                    {replica.pid ? ` pid ${replica.pid}` : ''} · {replica.phase ?? replica.process} ·{' '}
                    {replica.health.ok ? (replica.health.version ?? 'ok') : (replica.health.error ?? replica.health.status ?? 'no answer')}
                    {replica.restarts !== null ? ` · ${replica.restarts} restart(s)` : ''}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        {detail && (
          <>
            <dt>uptime</dt>
            <dd>{Math.round(detail.uptimeSeconds)} s</dd>
          </>
        )}
      </dl>
    </article>
  );
}

function signatureText(detail: ColorDetail): string {
  const task = detail.signature?.task;
  return `${detail.featureCount} feature${detail.featureCount === 1 ? '' : 's'}${task ? `, ${task}` : ''}`;
}

function Routes(props: { snapshot: DashboardSnapshot }) {
  const status = props.snapshot.stack.status;
  const routes = status?.routes;
  return (
    <article class="card card-routes" data-testid="routes">
      <h2>routes</h2>
      <dl>
        {routes ? (
          Object.entries(routes).map(([name, weights]) => (
            <Fragment key={name}>
              <dt>{name}</dt>
              <dd data-testid={`route-${name}`}>{describe(weights)}</dd>
            </Fragment>
          ))
        ) : (
          <>
            <dt>live</dt>
            <dd>–</dd>
          </>
        )}
        {status?.shadow && (
          <>
            <dt>shadow</dt>
            <dd data-testid="shadow">
              {status.shadow.on ? `on, ${status.shadow.percent ?? 100}% of live mirrored to ${status.preview ?? 'the idle color'}` : 'off'}
              {status.shadow.on && status.shadow.relay && (
                <span class="muted">
                  {' '}
                  (relay: {status.shadow.relay.received} received, {status.shadow.relay.forwarded} forwarded, {status.shadow.relay.dropped}{' '}
                  dropped)
                </span>
              )}
            </dd>
          </>
        )}
        <dt>nginx serves</dt>
        <dd data-testid="serving">
          {status?.router
            ? `${status.router.serving.version ?? 'nothing'} (${status.router.serving.ok ? 'ok' : (status.router.serving.error ?? 'not ok')})`
            : '–'}
        </dd>
        <dt>router</dt>
        <dd class="muted">{status?.router?.url ?? '–'}</dd>
      </dl>
      {(status?.notes ?? []).map((note) => (
        <p key={note} class="note">
          {note}
        </p>
      ))}
    </article>
  );
}

type Pending = ActionCall & {
  readonly question: string;
  readonly confirm: string;
};

function Actions(props: { snapshot: DashboardSnapshot; live: LiveState }) {
  const { snapshot } = props;
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string; hint?: string } | null>(null);
  const [model, setModel] = useState('');
  const [steps, setSteps] = useState('');
  const [intervalText, setIntervalText] = useState('');
  const canary = snapshot.stack.status?.canary ?? null;
  const live = canary?.stable ?? snapshot.stack.status?.live ?? null;
  const lastSwitch = snapshot.stack.status?.lastSwitch ?? null;
  const can = (name: ActionName) => snapshot.actions.includes(name) && !busy && live !== null;
  // While the live route is split only the canary's own buttons make sense (the commands refuse the others).
  const moving = (name: ActionName) => can(name) && canary === null;
  const splitTitle = canary ? `A canary of ${canary.canary} is in progress: abort or promote it first` : '';

  const ask = (next: Pending) => {
    setResult(null);
    setPending(next);
  };
  const go = async () => {
    if (!pending) return;
    const action = pending;
    setPending(null);
    setBusy(true);
    try {
      const { outcome } = await runAction(action);
      setResult(
        outcome.ok
          ? { ok: true, text: `${action.name}: done` }
          : { ok: false, text: outcome.error?.message ?? `${action.name} failed`, ...(outcome.error ? { hint: outcome.error.hint } : {}) },
      );
    } catch (error) {
      setResult({ ok: false, text: `The dashboard server did not answer: ${String(error)}` });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="actions" data-testid="actions">
      {live && (
        <>
          <button
            disabled={!moving('switch')}
            title={splitTitle}
            onClick={() =>
              ask({
                name: 'switch',
                // The version the confirmation names is the one the switch insists on (--expect-version):
                // if the page was behind and the target changed meanwhile, the gates refuse.
                body: {
                  color: otherColor(live),
                  ...(snapshot.stack.details[otherColor(live)] ? { expectVersion: versionOf(snapshot, otherColor(live)) } : {}),
                },
                question: `Switch live traffic from ${live} (${versionOf(snapshot, live)}) to ${otherColor(live)} (${versionOf(snapshot, otherColor(live))})? The preflight gates run first; traffic moves only if they pass.`,
                confirm: `Switch to ${otherColor(live)}`,
              })
            }
          >
            Switch to {otherColor(live)}
          </button>
          <button
            disabled={!moving('rollback') || !lastSwitch}
            title={splitTitle || (lastSwitch ? '' : 'No switch in the history to roll back')}
            onClick={() =>
              lastSwitch &&
              ask({
                name: 'rollback',
                body: {},
                question: `Roll back: move live traffic from ${live} (${versionOf(snapshot, live)}) back to ${lastSwitch.from} (${versionOf(snapshot, lastSwitch.from)})?`,
                confirm: 'Roll back',
              })
            }
          >
            Roll back
          </button>
          <form
            class="release"
            onSubmit={(event) => {
              event.preventDefault();
              if (model.trim() === '') return;
              const idle = otherColor(live);
              ask({
                name: 'release',
                body: { model: model.trim() },
                question: `Release ${model.trim()} to the idle color ${idle} (now ${versionOf(snapshot, idle)})? ${idle} restarts on it and stays off live traffic (on /preview/) until you switch.`,
                confirm: `Release to ${idle}`,
              });
            }}
          >
            <input
              name="model"
              placeholder="models/v1.1.0/model.onnx"
              value={model}
              onInput={(event) => setModel((event.target as HTMLInputElement).value)}
              aria-label="model path"
            />
            <button type="submit" disabled={!moving('release') || model.trim() === ''} title={splitTitle}>
              Release to {otherColor(live)}
            </button>
          </form>
        </>
      )}
      {live && snapshot.actions.includes('canary') && canary === null && (
        <form
          class="canary-start"
          onSubmit={(event) => {
            event.preventDefault();
            const idle = otherColor(live);
            const defaults = snapshot.canaryDefaults;
            const chosenSteps = steps.trim() === '' ? null : steps.split(',').map((step) => Number(step.trim()));
            const chosenInterval = intervalText.trim() === '' ? null : Number(intervalText.trim());
            if (
              (chosenSteps && chosenSteps.some((step) => !Number.isInteger(step))) ||
              (chosenInterval !== null && !(chosenInterval > 0))
            ) {
              setResult({
                ok: false,
                text: 'The steps are whole percents separated by commas (e.g. 5,25,50,100), the interval a number of seconds.',
              });
              return;
            }
            const stepsText = (chosenSteps ?? defaults?.steps ?? []).join(', ');
            const everySeconds = chosenInterval ?? defaults?.intervalSeconds ?? '?';
            ask({
              name: 'canary',
              body: {
                color: idle,
                ...(chosenSteps ? { steps: chosenSteps } : {}),
                ...(chosenInterval !== null ? { intervalSeconds: chosenInterval } : {}),
                // As for a switch: the canary insists on the version the confirmation names.
                ...(snapshot.stack.details[idle] ? { expectVersion: versionOf(snapshot, idle) } : {}),
              },
              question: `Start a canary of ${idle} (${versionOf(snapshot, idle)}) against the live ${live} (${versionOf(snapshot, live)})? ${idle} takes ${stepsText}% of live traffic step by step, every ${everySeconds} s, each step analysed (5xx share, p99 against ${live}); a failing analysis moves all traffic back to ${live}. The preflight gates run first. The canary runs as its own \`deploy canary\` process: it goes on if this page or the dashboard stops.`,
              confirm: `Start canary of ${idle}`,
            });
          }}
        >
          <input
            name="steps"
            class="short"
            placeholder={snapshot.canaryDefaults?.steps.join(',') ?? 'steps'}
            value={steps}
            onInput={(event) => setSteps((event.target as HTMLInputElement).value)}
            aria-label="canary steps (%)"
          />
          <input
            name="interval"
            class="short"
            placeholder={`${snapshot.canaryDefaults?.intervalSeconds ?? 30} s`}
            value={intervalText}
            onInput={(event) => setIntervalText((event.target as HTMLInputElement).value)}
            aria-label="canary interval (s)"
          />
          <button type="submit" disabled={!can('canary')}>
            Start canary of {otherColor(live)}
          </button>
        </form>
      )}
      {canary && (
        <>
          <button
            disabled={!can('canary-abort')}
            onClick={() =>
              ask({
                name: 'canary-abort',
                body: {},
                question: `Abort the canary: move all live traffic back to ${canary.stable} (${versionOf(snapshot, canary.stable)})? ${canary.canary} (${versionOf(snapshot, canary.canary)}) has ${canary.weight}% now.`,
                confirm: 'Abort canary',
              })
            }
          >
            Abort canary
          </button>
          <button
            disabled={!can('promote')}
            onClick={() =>
              ask({
                name: 'promote',
                body: {},
                question: `Promote ${canary.canary} (${versionOf(snapshot, canary.canary)}): all live traffic to it now, skipping the remaining steps? ${canary.stable} (${versionOf(snapshot, canary.stable)}) becomes the idle color.`,
                confirm: `Promote ${canary.canary}`,
              })
            }
          >
            Promote {canary.canary}
          </button>
        </>
      )}
      {live && snapshot.actions.includes('shadow') && snapshot.stack.status?.shadow && (
        <button
          disabled={!moving('shadow')}
          onClick={() =>
            snapshot.stack.status?.shadow?.on
              ? ask({
                  name: 'shadow',
                  body: { on: false },
                  question: `Stop mirroring live traffic to ${otherColor(live)} (${versionOf(snapshot, otherColor(live))})?`,
                  confirm: 'Shadow off',
                })
              : ask({
                  name: 'shadow',
                  body: { on: true },
                  question: `Mirror live traffic from ${live} (${versionOf(snapshot, live)}) to ${otherColor(live)} (${versionOf(snapshot, otherColor(live))})? Clients keep getting ${live}'s answers; ${otherColor(live)}'s are kept for deploy:diff.`,
                  confirm: 'Shadow on',
                })
          }
        >
          {snapshot.stack.status.shadow.on ? 'Shadow off' : `Shadow on (to ${otherColor(live)})`}
        </button>
      )}
      {busy && (
        <div class="progress" data-testid="progress">
          running… {props.live.progress.at(-1) ?? ''}
        </div>
      )}
      {result && (
        <div class={`banner ${result.ok ? 'banner-ok' : 'banner-error'}`} data-testid="action-result" data-ok={String(result.ok)}>
          {result.text}
          {result.hint && <div class="hint">{result.hint}</div>}
        </div>
      )}
      {pending && (
        <div class="dialog-backdrop">
          <div class="dialog" role="dialog" aria-modal="true" data-testid="confirm">
            <p>{pending.question}</p>
            <div class="dialog-buttons">
              <button onClick={() => setPending(null)}>Cancel</button>
              <button class="primary" onClick={() => void go()} data-testid="confirm-yes">
                {pending.confirm}
              </button>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}

function Timeline(props: { entries: readonly HistoryEntry[]; skipped: readonly number[] }) {
  const entries = [...props.entries].reverse();
  return (
    <section class="timeline" data-testid="timeline">
      <h2>History</h2>
      {props.skipped.length > 0 && <p class="note">Lines {props.skipped.join(', ')} of the history can not be read and are not shown.</p>}
      {entries.length === 0 && <p class="muted">Nothing yet.</p>}
      <ol>
        {entries.map((entry) => (
          <li
            key={`${entry.time} ${entry.command}`}
            class={`entry outcome-${entry.outcome}`}
            data-testid="history-entry"
            data-command={entry.command}
            data-outcome={entry.outcome}
          >
            <div class="entry-head">
              <time dateTime={entry.time}>{new Date(entry.time).toLocaleString()}</time>
              <strong>{entry.command}</strong>
              <span>{whatText(entry)}</span>
              <span class={`outcome outcome-${entry.outcome}`}>{entry.outcome}</span>
              <span class="muted">
                by {entry.user} · {entry.backend} · {(entry.durationMs / 1000).toFixed(1)} s
              </span>
            </div>
            {entry.reason && <div class="reason">{entry.reason}</div>}
            {entry.gates.length > 0 && (
              <ul class="gates">
                {entry.gates.map((gate) => (
                  <li key={gate.name} class={gate.ok ? 'ok' : 'bad'}>
                    {gate.ok ? '✓' : '✗'} {gate.name}
                    {!gate.ok && gate.observed !== undefined && <span class="muted"> observed {JSON.stringify(gate.observed)}</span>}
                    {!gate.ok && gate.expected !== undefined && <span class="muted">, expected {JSON.stringify(gate.expected)}</span>}
                    {!gate.ok && gate.hint && <div class="hint">{gate.hint}</div>}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function whatText(entry: HistoryEntry): string {
  if (entry.command === 'canary')
    return `${entry.stable} (${entry.stableVersion ?? '?'}) → ${entry.canary} (${entry.canaryVersion ?? '?'}) at ${entry.weight}%, steps ${entry.steps.join(', ')}% every ${entry.intervalMs / 1000} s`;
  if ('from' in entry) {
    // A reconcile line or an unsettled intent names no versions.
    const versions = 'fromVersion' in entry ? entry : { fromVersion: null, toVersion: null };
    return `${entry.from} (${versions.fromVersion ?? '?'}) → ${entry.to} (${versions.toVersion ?? '?'})`;
  }
  if (entry.command === 'release') return `${entry.color ?? '?'} ← ${entry.model} (${entry.version ?? '?'})`;
  if (entry.command === 'shadow' && entry.percent) return `${entry.percent}% of live mirrored`;
  return '';
}
