import { z } from 'zod';
import { Color } from '../color';
import { GateResult } from './gate-result';
import { Judgement } from './judgement';
import { Routes } from './routes';

/** The history format the deploy tool writes; it migrates older lines when it reads them. */
export const HISTORY_SCHEMA_VERSION = 2;

/** Which deployment a command ran on. */
export const BackendKind = z.enum(['local', 'compose', 'kubernetes']);
export type BackendKind = z.infer<typeof BackendKind>;

/**
 * How a switch attempt ended: `switched` (traffic moved and verified), `refused` (a gate failed,
 * nothing changed), `reverted` (moved, verification failed, moved back), `broken` (moved,
 * verification failed, and moving back failed too).
 */
export const SwitchResultKind = z.enum(['switched', 'refused', 'reverted', 'broken']);
export type SwitchResultKind = z.infer<typeof SwitchResultKind>;

const Common = {
  schemaVersion: z.literal(HISTORY_SCHEMA_VERSION),
  time: z.string(),
  user: z.string(),
  backend: BackendKind,
  durationMs: z.number().nonnegative(),
  /** What failed, when the command did not do what it was asked. */
  reason: z.string().optional(),
  /** The checks that allowed (or refused) it, in order. */
  gates: z.array(GateResult).default([]),
};

const Move = {
  ...Common,
  from: Color,
  to: Color,
  fromVersion: z.string().nullable(),
  toVersion: z.string().nullable(),
  outcome: SwitchResultKind,
  /** The routes after the attempt (absent in migrated lines). */
  routes: Routes.optional(),
};

/** A color as `up` or `release` left it. */
const ColorRecord = z.strictObject({ model: z.string(), version: z.string().nullable(), sha256: z.string().nullable() });

/** What one color served in one canary interval (nginx's access log, and the color's own /metrics when it answered). */
export const CanaryColorSample = z.strictObject({
  color: Color,
  requests: z.int().nonnegative(),
  errors: z.int().nonnegative(),
  /** 5xx share; null with no requests. */
  errorRate: z.number().nullable(),
  p99Ms: z.number().nullable(),
  /** The color's own /metrics over the interval (requests answered, 5xx); null when it did not answer. */
  metrics: z.strictObject({ requests: z.number(), errors: z.number() }).nullable(),
});
export type CanaryColorSample = z.infer<typeof CanaryColorSample>;

/** One analysis of a canary: the numbers, the checks with their thresholds, the verdict. */
export const CanaryInterval = z.strictObject({
  weight: z.int().min(0).max(100),
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  canary: CanaryColorSample,
  stable: CanaryColorSample,
  probesSent: z.int().nonnegative(),
  /** Requests replayed to both colors for paired answers (absent before the judge). */
  replayed: z.int().nonnegative().optional(),
  checks: z.array(GateResult),
  /** The judge's verdict check by check: statistics, p-values, effects, samples (absent before the judge). */
  judgement: Judgement.optional(),
});
export type CanaryInterval = z.infer<typeof CanaryInterval>;

/**
 * How a canary ended: `started` (written when it begins, so an interrupted one is known),
 * `promoted` (all traffic on the canary), `rolled-back` (failed analysis, all traffic back on the
 * stable color), `aborted` (--abort), `stopped` (SIGINT/SIGTERM, weight moved back), `kept`
 * (stopped with --keep: the weight stays), `refused` (the preflight failed; nothing changed),
 * `broken` (moving the weight back failed).
 */
export const CanaryOutcome = z.enum(['started', 'promoted', 'rolled-back', 'aborted', 'stopped', 'kept', 'refused', 'broken']);
export type CanaryOutcome = z.infer<typeof CanaryOutcome>;

/** The relay's counters as a shadow line keeps them. */
const RelayCountersRecord = z.strictObject({
  received: z.number(),
  forwarded: z.number(),
  dropped: z.number(),
  failed: z.number(),
  sampledOut: z.number(),
});

const SwitchEntry = z.strictObject({ ...Move, command: z.literal('switch') });
const RollbackEntry = z.strictObject({ ...Move, command: z.literal('rollback') });

/** A switch or a rollback: a move of all live traffic from one color to the other (or the attempt). */
export const MoveEntry = z.discriminatedUnion('command', [SwitchEntry, RollbackEntry]);
export type MoveEntry = z.infer<typeof MoveEntry>;

/** One line of `history.jsonl`: every action on a stack, with its outcome. */
export const HistoryEntry = z.discriminatedUnion('command', [
  SwitchEntry,
  RollbackEntry,
  z.strictObject({
    ...Common,
    command: z.literal('up'),
    outcome: z.enum(['started', 'failed']),
    live: Color.nullable(),
    colors: z.strictObject({ blue: ColorRecord, green: ColorRecord }).nullable(),
  }),
  z.strictObject({ ...Common, command: z.literal('down'), outcome: z.enum(['stopped', 'failed']) }),
  z.strictObject({
    ...Common,
    command: z.literal('release'),
    outcome: z.enum(['released', 'refused', 'failed']),
    /** null when a release failed before its color was known. */
    color: Color.nullable(),
    model: z.string(),
    version: z.string().nullable(),
    sha256: z.string().nullable(),
    previousModel: z.string().nullable(),
  }),
  /** Written by the local stack's supervisor: a process it restarted, or gave up on. */
  z.strictObject({
    ...Common,
    command: z.literal('restart'),
    /** The supervised process: blue, green, nginx, ... */
    process: z.string(),
    outcome: z.enum(['restarted', 'failed']),
    /** Why: how it exited, or how long its health probe failed. */
    exit: z.string(),
    /** Restarts of this process since its supervisor started. */
    restarts: z.int().nonnegative(),
    /** The new process (null when it was not restarted). */
    pid: z.int().nullable(),
  }),
  /** A switch whose command was killed between its intent and its outcome, settled by the next command from what the router really does. */
  z.strictObject({
    ...Common,
    command: z.literal('reconcile'),
    from: Color,
    to: Color,
    /** `flipped`: the route had moved (the state now says so); `not-flipped`: nothing had moved. */
    outcome: z.enum(['flipped', 'not-flipped']),
    routes: Routes,
  }),
  /** Written just before a switch moves a route; its outcome line follows (or a `reconcile` line, when the command was killed). */
  z.strictObject({
    ...Common,
    command: z.literal('switch-intent'),
    outcome: z.literal('intended'),
    from: Color,
    to: Color,
    routes: Routes,
  }),
  z.strictObject({
    ...Common,
    command: z.literal('canary'),
    outcome: CanaryOutcome,
    stable: Color,
    canary: Color,
    stableVersion: z.string().nullable(),
    canaryVersion: z.string().nullable(),
    steps: z.array(z.int().min(1).max(100)),
    intervalMs: z.number().positive(),
    /** The canary's weight when the line was written. */
    weight: z.int().min(0).max(100),
    /** Continued by `deploy:canary --resume` after an interruption. */
    resumed: z.boolean().default(false),
    /** The answers were declared to change (--expect-output-change): the judge showed the output checks without counting them. */
    expectOutputChange: z.boolean().optional(),
    intervals: z.array(CanaryInterval).default([]),
    routes: Routes,
  }),
  z.strictObject({
    ...Common,
    command: z.literal('shadow'),
    /** on: nginx mirrors live /predict to the idle color; off: it stopped. */
    outcome: z.enum(['on', 'off', 'failed']),
    percent: z.number().nullable(),
    /** The relay's counters when it stopped (off) or was changed. */
    relay: RelayCountersRecord.nullable(),
  }),
]);
export type HistoryEntry = z.infer<typeof HistoryEntry>;
/** A line as it is written (the defaults, e.g. `gates: []`, may be left out). */
export type HistoryInput = z.input<typeof HistoryEntry>;
export type CanaryEntry = Extract<HistoryEntry, { command: 'canary' }>;
