import { z } from 'zod';
import { ModelSignature } from '../signature';
import { CanaryLaunch, CanaryResult } from './canary';
import { CliError, failureOf } from './cli';
import { DiffResult, LastDiff } from './diff';
import { BackendKind, HistoryEntry } from './history';
import { ReleaseOutcome, ShadowResult, SwitchResult } from './results';
import { StatusResult } from './status';
import { Color } from '../color';
import { ModelPathArgument } from './release-values';

/** One chart point of one source over one interval. null = no requests in it (no rate to show). */
export const TrafficPoint = z.strictObject({
  rps: z.number(),
  /** 5xx answers / all answers. */
  errorShare: z.number().nullable(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
});
export type TrafficPoint = z.infer<typeof TrafficPoint>;

/** One chart point: the colors from their /metrics, the router from nginx's access log. null = could not be read. */
export const Sample = z.strictObject({
  t: z.number(),
  blue: TrafficPoint.nullable(),
  green: TrafficPoint.nullable(),
  router: TrafficPoint.nullable(),
});
export type Sample = z.infer<typeof Sample>;

/** What a color says about itself on /health, beyond the status view: the model's identity and signature. */
export const ColorDetail = z.strictObject({
  version: z.string(),
  sha256: z.string(),
  featureCount: z.int(),
  uptimeSeconds: z.number(),
  signature: ModelSignature.nullable(),
});
export type ColorDetail = z.infer<typeof ColorDetail>;

/** The deployment as the page shows it; `error` when the status could not be read at all. */
export const StackView = z.strictObject({
  checkedAt: z.string(),
  status: StatusResult.nullable(),
  details: z.strictObject({ blue: ColorDetail.nullable(), green: ColorDetail.nullable() }),
  error: z.string().nullable(),
});
export type StackView = z.infer<typeof StackView>;

/** The history as the timeline shows it (its newest lines), and the lines that could not be read. */
export const HistoryView = z.strictObject({ entries: z.array(HistoryEntry), skippedLines: z.array(z.int()) });
export type HistoryView = z.infer<typeof HistoryView>;

/** What the page's buttons ask, as `POST /api/actions/<name>` bodies: the CLI's flags of the same command. */
export const ActionRequests = {
  switch: z.strictObject({ color: Color.optional(), expectVersion: z.string().min(1).optional() }),
  rollback: z.strictObject({}),
  release: z.strictObject({ model: ModelPathArgument, color: Color.optional(), switch: z.boolean().default(false) }),
  shadow: z.strictObject({ on: z.boolean(), percent: z.int().min(1).max(100).optional() }),
  canary: z.strictObject({
    color: Color.optional(),
    steps: z.array(z.int().min(1).max(100)).min(1).optional(),
    intervalSeconds: z.number().positive().optional(),
    expectVersion: z.string().min(1).optional(),
    /** The answers are meant to change (--expect-output-change): the judge shows the output checks without counting them. */
    expectOutputChange: z.boolean().optional(),
  }),
  'canary-abort': z.strictObject({}),
  promote: z.strictObject({}),
} as const;
export const ActionName = z.enum(['switch', 'rollback', 'release', 'shadow', 'canary', 'canary-abort', 'promote']);
export type ActionName = z.infer<typeof ActionName>;
/** The body the page sends for `name` (defaults may be left out). */
export type ActionRequest<N extends ActionName> = z.input<(typeof ActionRequests)[N]>;

/** Each action's `result`: the same as its command's (a canary start: the launched process, or its own answer when it ended first). */
export const ActionResults = {
  switch: SwitchResult,
  rollback: SwitchResult,
  release: ReleaseOutcome,
  shadow: ShadowResult,
  canary: z.union([CanaryLaunch, CanaryResult]),
  'canary-abort': CanaryResult,
  promote: CanaryResult,
} as const satisfies Record<ActionName, z.ZodType>;

/** What an action answers (and the `action` event carries when it finished): the CLI's --json shape without `command`. */
export const ActionOutcome = z.strictObject({ ok: z.boolean(), result: z.unknown(), error: CliError.optional() });
export type ActionOutcome = z.infer<typeof ActionOutcome>;

/** {@link ActionOutcome} with the result of `name` checked. */
export function actionOutcome<N extends ActionName>(name: N) {
  return ActionOutcome.extend({ result: z.union([ActionResults[name], failureOf(name), z.null()]) });
}

/** An action started from a page, and how it finished (the `action` event, to every page). */
export const ActionEvent = z.strictObject({
  phase: z.enum(['started', 'finished']),
  name: ActionName,
  /** The request as the server read it (defaults filled in). */
  request: z.record(z.string(), z.unknown()),
  user: z.string(),
  outcome: ActionOutcome.optional(),
});
export type ActionEvent = z.infer<typeof ActionEvent>;

/** A progress line of the running action (the `progress` event). */
export const ProgressEvent = z.strictObject({ name: ActionName, line: z.string() });
export type ProgressEvent = z.infer<typeof ProgressEvent>;

/** Who the page acts as, and what it may do: the part of the snapshot that is not the deployment. */
export const DashboardMeta = z.strictObject({
  backend: BackendKind,
  readOnly: z.boolean(),
  /** Who the history records for the page's actions, e.g. `ana (dashboard)`. */
  user: z.string(),
  /** The actions the page may offer (none when read-only). */
  actions: z.array(ActionName),
  /** The spec's canary steps and interval (the start form's defaults); null when the spec can not be read. */
  canaryDefaults: z.strictObject({ steps: z.array(z.int()), intervalSeconds: z.number() }).nullable(),
});
export type DashboardMeta = z.infer<typeof DashboardMeta>;

/** Everything a new page needs at once: `GET /api/state`, and the first event (`snapshot`) of `/api/events`. */
export const DashboardSnapshot = DashboardMeta.extend({
  stack: StackView,
  /** The charts' points of the last 15 minutes, oldest first. */
  samples: z.array(Sample),
  history: HistoryView,
  /** The latest prediction-diff report, or null. */
  diff: LastDiff.nullable(),
});
export type DashboardSnapshot = z.infer<typeof DashboardSnapshot>;

/** What the dashboard's feed pushes after the snapshot; the server-sent event's name is its `kind`. */
export const FeedEvent = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('stack'), stack: StackView }),
  z.strictObject({ kind: z.literal('sample'), sample: Sample }),
  z.strictObject({ kind: z.literal('history'), ...HistoryView.shape }),
  z.strictObject({ kind: z.literal('diff'), diff: LastDiff.nullable() }),
]);
export type FeedEvent = z.infer<typeof FeedEvent>;

/** Every server-sent event of `/api/events`, by its event name. */
export const DashboardEvents = {
  snapshot: DashboardSnapshot,
  stack: FeedEvent.options[0],
  sample: FeedEvent.options[1],
  history: FeedEvent.options[2],
  diff: FeedEvent.options[3],
  action: ActionEvent,
  progress: ProgressEvent,
} as const;
export type DashboardEventName = keyof typeof DashboardEvents;
export type DashboardEvent<E extends DashboardEventName> = z.infer<(typeof DashboardEvents)[E]>;

/** `POST /api/diff` (the page's Origin, not in --read-only): the page's compare (`deploy:diff` with the spec's criteria). */
export const DiffAnswer = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), result: DiffResult }),
  z.strictObject({ ok: z.literal(false), result: z.null(), error: CliError }),
]);
export type DiffAnswer = z.infer<typeof DiffAnswer>;

/** Every refusal at the dashboard's edge (401, 403, 404, 400), in the shape of the CLI's errors. */
export const EdgeError = z.strictObject({
  error: z.strictObject({
    code: z.enum(['UNAUTHORIZED', 'BAD_ORIGIN', 'READ_ONLY', 'UNKNOWN_ACTION', 'BAD_REQUEST']),
    message: z.string(),
    hint: z.string(),
  }),
});
export type EdgeError = z.infer<typeof EdgeError>;
