import { z } from 'zod';
import { Color } from '../color';
import { CanaryView } from './canary';
import { BackendKind, HistoryEntry, MoveEntry } from './history';
import { Routes } from './routes';

/** What a status line shows of one /health. */
export const HealthView = z.strictObject({
  /** 200 with status "ok". */
  ok: z.boolean(),
  httpStatus: z.int().nullable(),
  status: z.string().nullable(),
  version: z.string().nullable(),
  color: z.string().nullable(),
  featureCount: z.int().nullable(),
  /** Why there is no answer, or what nginx said instead. */
  error: z.string().optional(),
});
export type HealthView = z.infer<typeof HealthView>;

/**
 * How a process or container of the stack is doing: `running`; locally also `none` (no pid
 * file), `dead`, `not-ours` (the pid is another program now), `invalid-pid-file`; `unknown` when
 * the backend can not tell.
 */
export const ProcessState = z.enum(['running', 'none', 'dead', 'not-ours', 'invalid-pid-file', 'unknown']);
export type ProcessState = z.infer<typeof ProcessState>;

/** One replica of a color as `status` shows it (local and Compose). */
export const ReplicaStatus = z.strictObject({
  /** 1-based; replica 1 has the color's port and the color's own process or container name. */
  replica: z.int().positive(),
  /** Its process name (`blue-2`) or container (`ml-service-blue-2`). */
  name: z.string(),
  process: ProcessState,
  pid: z.int().nullable(),
  /** What its supervisor (or the container engine) says: `ready`, `starting`, `backoff`, `healthy`, ... */
  phase: z.string().nullable(),
  /** Restarts after an unexpected exit, as far as the backend knows. */
  restarts: z.int().nullable(),
  /** Its own /health, on its own socket: the version it serves. */
  health: HealthView,
});
export type ReplicaStatus = z.infer<typeof ReplicaStatus>;

export const ColorStatus = z.strictObject({
  color: Color,
  role: z.enum(['live', 'preview']).nullable(),
  process: ProcessState,
  /** The local process (replica 1's), when there is one. */
  pid: z.int().nullable(),
  /** The Compose container (replica 1's). */
  container: z.string().optional(),
  port: z.int().nullable(),
  url: z.string().nullable(),
  model: z.string().nullable(),
  /** Healthy and desired replicas; Kubernetes: the Deployment's ready and desired pods (with its image and its `version` label). */
  replicas: z.strictObject({ ready: z.int(), desired: z.int() }).optional(),
  /** Each replica (local and Compose). */
  replicaList: z.array(ReplicaStatus).optional(),
  image: z.string().optional(),
  versionLabel: z.string().nullable().optional(),
  health: HealthView,
});
export type ColorStatus = z.infer<typeof ColorStatus>;

export const RouterStatus = z.strictObject({
  url: z.string(),
  previewUrl: z.string(),
  port: z.int(),
  requestedPort: z.int(),
  process: ProcessState,
  pid: z.int().nullable(),
  container: z.string().optional(),
  /** What nginx answers on / right now: the version it is serving. */
  serving: HealthView,
  /** What nginx answers on the preview route right now. */
  previewServing: HealthView,
});
export type RouterStatus = z.infer<typeof RouterStatus>;

/** What the shadow relay counted (`GET /_relay/status` on its socket). */
export const RelayStatus = z.strictObject({
  /** Copies nginx sent. */
  received: z.int().nonnegative(),
  /** Not forwarded because of `percent`. */
  sampledOut: z.int().nonnegative(),
  /** Not forwarded because the queue was full. */
  dropped: z.int().nonnegative(),
  /** The idle color answered 2xx. */
  forwarded: z.int().nonnegative(),
  /** The idle color answered otherwise, or not at all (refused, timed out). */
  failed: z.int().nonnegative(),
  lastError: z.string().nullable(),
  percent: z.number(),
  queueSize: z.int(),
  queued: z.int(),
  inFlight: z.int(),
  /** The idle color's replica sockets the copies go to, in turn. */
  targetSockets: z.array(z.string()),
  /** A capture in progress (or the last one): where, how many wanted, how many written. */
  capture: z.strictObject({ file: z.string(), n: z.int(), captured: z.int(), active: z.boolean() }).nullable(),
});
export type RelayStatus = z.infer<typeof RelayStatus>;

/** Whether live requests are mirrored now, and what the relay counted. */
export const ShadowStatus = z.strictObject({
  on: z.boolean(),
  percent: z.number().nullable(),
  pid: z.int().nullable(),
  relay: RelayStatus.nullable(),
  notes: z.array(z.string()),
});
export type ShadowStatus = z.infer<typeof ShadowStatus>;

/**
 * Where one supervised process is: `starting` (spawned, not ready yet), `ready` (its probe
 * answers, or it has none), `unready` (was ready, its probe fails now), `backoff` (exited, waits
 * to be started again), `failed` (exited too often; not restarted until the next `up`),
 * `stopping` (being replaced on purpose).
 */
export const ProcessPhase = z.enum(['starting', 'ready', 'unready', 'backoff', 'failed', 'stopping']);
export type ProcessPhase = z.infer<typeof ProcessPhase>;

/** One supervised process as `status` shows it. */
export const SupervisedStatus = z.strictObject({
  phase: ProcessPhase,
  pid: z.int().nullable(),
  restarts: z.int(),
  lastExit: z.strictObject({ at: z.string(), reason: z.string() }).nullable(),
  adopted: z.boolean(),
  logTail: z.string().nullable(),
});
export type SupervisedStatus = z.infer<typeof SupervisedStatus>;

/** The local stack's supervisor and what it reports of each process (restarts, last exit). */
export const SupervisorStatusView = z.strictObject({
  process: ProcessState,
  pid: z.int().nullable(),
  processes: z.record(z.string(), SupervisedStatus),
});
export type SupervisorStatusView = z.infer<typeof SupervisorStatusView>;

/** A backend's own status of its deployment; `healthy` decides the exit status of `deploy:status`. */
export const BackendStatus = z.strictObject({
  backend: BackendKind,
  /** The local state folder, or the Compose command. */
  where: z.string(),
  stack: z.enum(['never started', 'stopped', 'running', 'partly running']),
  healthy: z.boolean(),
  routes: Routes.nullable(),
  live: Color.nullable(),
  preview: Color.nullable(),
  router: RouterStatus.nullable(),
  colors: z.strictObject({ blue: ColorStatus, green: ColorStatus }).nullable(),
  notes: z.array(z.string()),
  /** The local stack's supervisor and what it reports of each process (restarts, last exit). */
  supervisor: SupervisorStatusView.optional(),
  /** Where the backend has shadow traffic: whether it is on, and the relay's counters. */
  shadow: ShadowStatus.optional(),
});
export type BackendStatus = z.infer<typeof BackendStatus>;

/** `deploy:status`: the backend's view plus the last switch and action from the history, and the canary in progress. */
export const StatusResult = BackendStatus.extend({
  lastSwitch: MoveEntry.nullable(),
  lastAttempt: MoveEntry.nullable(),
  lastAction: HistoryEntry.nullable(),
  /** The canary in progress (the live route is split), or null. */
  canary: CanaryView.nullable(),
});
export type StatusResult = z.infer<typeof StatusResult>;
