import { z } from 'zod';
import { Color } from '../color';
import { GateResult } from './gate-result';
import { BackendKind } from './history';
import { Routes } from './routes';
import { BackendStatus, RelayStatus, ShadowStatus } from './status';

/** Where a color's model came from, so `up` can say why it runs what it runs. */
export const ModelSource = z.enum(['flag', 'last release', 'spec']);
export type ModelSource = z.infer<typeof ModelSource>;

/** One replica of a color as `up` or `release` started it: its process (local) or container (Compose) name. */
export const StartedReplica = z.strictObject({ name: z.string(), pid: z.int().nullable() });
export type StartedReplica = z.infer<typeof StartedReplica>;

export const StartedColor = z.strictObject({
  color: Color,
  /** Replica 1's process, when there is one. */
  pid: z.int().nullable(),
  /** Every replica of the color (where the backend runs them). */
  replicas: z.array(StartedReplica).optional(),
  port: z.int(),
  url: z.string(),
  model: z.string(),
  modelSource: ModelSource,
  version: z.string(),
  featureCount: z.int(),
  modelSha256: z.string().nullable(),
});
export type StartedColor = z.infer<typeof StartedColor>;

/** `deploy:up`: the stack it started, or the status of the one already up (nothing changed). */
export const UpResult = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('already-up'), status: BackendStatus }),
  z.strictObject({
    kind: z.literal('started'),
    backend: BackendKind,
    routes: Routes,
    live: Color,
    preview: Color,
    routerUrl: z.string(),
    previewUrl: z.string(),
    nginxPid: z.int().nullable(),
    colors: z.strictObject({ blue: StartedColor, green: StartedColor }),
    notes: z.array(z.string()),
    durationMs: z.number().nonnegative(),
    stateDir: z.string(),
    logDir: z.string(),
  }),
]);
export type UpResult = z.infer<typeof UpResult>;

/** What `down` did to one process or container. */
export const StoppedProcess = z.strictObject({
  name: z.string(),
  pid: z.int().nullable(),
  result: z.enum(['no pid file', 'invalid pid file', 'was not running', 'not ours, left alone', 'stopped', 'killed', 'survived SIGKILL']),
  ms: z.number().optional(),
});
export type StoppedProcess = z.infer<typeof StoppedProcess>;

/** `deploy:down`. */
export const DownResult = z.strictObject({
  kind: z.enum(['stopped', 'nothing']),
  processes: z.array(StoppedProcess),
  removedRuntimeDir: z.boolean(),
  notes: z.array(z.string()),
});
export type DownResult = z.infer<typeof DownResult>;

/** What a release did to the idle color. */
export const ReleaseResult = z.strictObject({
  color: Color,
  model: z.string(),
  /** The container image, where the backend runs images (Compose). */
  image: z.string().optional(),
  previousModel: z.string().nullable(),
  /** What the color ran before, so a release can be put back: `release` with these values. */
  previous: z.strictObject({ model: z.string().nullable(), image: z.string().nullable() }),
  /** Replica 1's process, when there is one. */
  pid: z.int().nullable(),
  /** Every replica the release started, in order (where the backend runs them). */
  replicas: z.array(StartedReplica).optional(),
  version: z.string(),
  featureCount: z.int(),
  modelSha256: z.string().nullable(),
  previewUrl: z.string(),
  live: z.strictObject({ color: Color, version: z.string().nullable(), featureCount: z.int().nullable() }),
  notes: z.array(z.string()),
  durationMs: z.number().nonnegative(),
});
export type ReleaseResult = z.infer<typeof ReleaseResult>;

const Move = { from: Color, to: Color };
const Versions = {
  fromVersion: z.string().nullable(),
  toVersion: z.string().nullable(),
  /** The gates run so far, in order: the summary, `--json` and the history show them. */
  gates: z.array(GateResult),
};
const SwitchedOutcome = z.strictObject({ kind: z.literal('switched'), ...Move, ...Versions });
/** `stateNotWritable`: refused because the switch could not be recorded (STATE_NOT_WRITABLE), not by a gate. */
const RefusedOutcome = z.strictObject({
  kind: z.literal('refused'),
  reason: z.string(),
  stateNotWritable: z.literal(true).optional(),
  ...Move,
  ...Versions,
});
const RevertedOutcome = z.strictObject({ kind: z.literal('reverted'), reason: z.string(), ...Move, ...Versions });
const BrokenOutcome = z.strictObject({ kind: z.literal('broken'), reason: z.string(), revertError: z.string(), ...Move, ...Versions });

/** How a switch that got past planning ended; the same words go to the history. */
export const SwitchOutcome = z.discriminatedUnion('kind', [SwitchedOutcome, RefusedOutcome, RevertedOutcome, BrokenOutcome]);
export type SwitchOutcome = z.infer<typeof SwitchOutcome>;

const WithRoutes = { routes: Routes };

/** `deploy:switch` and `deploy:rollback`: how it ended, with the routes after it. `noop` = the color was already live. */
export const SwitchResult = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('noop'), color: Color, version: z.string().nullable(), note: z.string().optional() }),
  SwitchedOutcome.extend(WithRoutes),
  RefusedOutcome.extend(WithRoutes),
  RevertedOutcome.extend(WithRoutes),
  BrokenOutcome.extend(WithRoutes),
]);
export type SwitchResult = z.infer<typeof SwitchResult>;

/** `deploy:release`, and with `--switch` how the switch to the released color went. */
export const ReleaseOutcome = ReleaseResult.extend({ switch: SwitchResult.optional() });
export type ReleaseOutcome = z.infer<typeof ReleaseOutcome>;

/** The `result` of a `release --switch` whose switch did not happen (the color was put back): the release, and the switch. */
export const ReleaseSwitchFailure = z.strictObject({ release: ReleaseResult, switch: SwitchResult });
export type ReleaseSwitchFailure = z.infer<typeof ReleaseSwitchFailure>;

/** `deploy:shadow on|off|status`: the shadow status after it; `final`: the relay's counters just before `off` stopped it. */
export const ShadowResult = ShadowStatus.extend({
  final: RelayStatus.nullable().optional(),
  action: z.enum(['on', 'off', 'status']),
});
export type ShadowResult = z.infer<typeof ShadowResult>;

/** `deploy:capture`: the live request bodies written for `deploy:diff --replay`. */
export const CaptureResult = z.strictObject({
  file: z.string(),
  n: z.int(),
  captured: z.int(),
  /** True when fewer than n live requests came before the timeout. */
  timedOut: z.boolean(),
  /** Whether shadow traffic was off, and so was turned on (forwarding 0%) for the capture only. */
  shadowWasOff: z.boolean(),
});
export type CaptureResult = z.infer<typeof CaptureResult>;

/** `deploy:dashboard --json`: where it listens, printed once it does. */
export const DashboardStarted = z.strictObject({
  url: z.string(),
  openUrl: z.string(),
  token: z.string(),
  readOnly: z.boolean(),
  user: z.string(),
});
export type DashboardStarted = z.infer<typeof DashboardStarted>;
