import type { Color } from '@mlbg/contract';
import type { Clock, HttpAnswer, HttpCall } from '../effects/deps';
import type { HealthView } from '../effects/service-client';
import type { ColorAccess } from '../gates/gate';
import type { BackendKind } from '../history/history';
import type { Routes } from '../routing/routes';
import type { RelayStatus } from './local/shadow/relay/relay';

/**
 * One deployment the commands drive: the local stack (processes and a real nginx) or Docker
 * Compose or Kubernetes. The commands (switch, rollback, release, ...) take the lock,
 * run the gates and write the history; a backend only does what it is asked, in three parts:
 * lifecycle (up, down, release, status), router (read and set routes), colors (direct access).
 * A new backend is a new folder implementing this interface, and one case in `contextFor` (`cli/run.ts`).
 */
export interface Backend {
  readonly kind: BackendKind;
  /** Where nginx answers, for messages, e.g. `http://127.0.0.1:80`. */
  readonly routerUrl: string;

  // lifecycle
  up(request: UpRequest): Promise<UpResult>;
  down(request: DownRequest): Promise<DownResult>;
  /** Restarts the idle `color` on a new model (and, where the backend has images, image). */
  release(request: ReleaseRequest): Promise<ReleaseResult>;
  status(): Promise<BackendStatus>;

  // router
  readRoutes(): Promise<Routes>;
  /**
   * Moves the routes (each with one atomic step where it can: a rename, a selector patch).
   * @throws DeployError STATE_NOT_WRITABLE when the move can not be recorded and NOTHING was moved
   *         (a switch then is a refusal, with nothing to move back); any other error may leave a
   *         route half moved (the switch moves it back)
   */
  setRoutes(routes: Routes): Promise<void>;
  /** GET /health through nginx's live route (or the preview route), on a fresh client connection. */
  routerHealth(route?: 'live' | 'preview'): Promise<HttpAnswer>;

  // colors
  readonly colors: ColorAccess;

  /** What a weighted canary needs; absent where a canary is not supported (yet). */
  readonly canary?: CanaryAccess;

  /** Shadow traffic (nginx mirrors live /predict to the idle color); absent where it is not built yet. */
  readonly shadow?: ShadowControl;
}

/** What `deploy:canary` needs of a backend besides setting weighted routes (the local stack, for now). */
export interface CanaryAccess {
  /** How many slot links the live route has: weights are multiples of 100 / slots. */
  readonly slots: number;
  /** The preview route's path prefix through nginx, e.g. `/preview/` (probes to the canary go there). */
  readonly previewPathPrefix: string;
  /** nginx's JSON access log from byte `from` (`end`: nothing, just where it ends now). */
  readAccessLog(from: number | 'end'): Promise<{ readonly text: string; readonly next: number }>;
  /** A request through nginx, on a fresh connection (probes). */
  request(call: HttpCall): Promise<HttpAnswer>;
  /** GET /metrics of one color, directly. */
  metrics(color: Color): Promise<HttpAnswer>;
}

/** What `deploy:shadow on` asks for. */
export interface ShadowRequest {
  /** 0..100: the share of live requests copied to the idle color. */
  readonly percent: number;
  /** Copies the relay holds before it drops (and counts) new ones. */
  readonly queueSize: number;
}

/** Whether live requests are mirrored now, and what the relay counted. */
export interface ShadowStatus {
  readonly on: boolean;
  readonly percent: number | null;
  readonly pid: number | null;
  readonly relay: RelayStatus | null;
  readonly notes: readonly string[];
}

export interface ShadowControl {
  on(request: ShadowRequest): Promise<ShadowStatus>;
  /** `final`: the relay's counters just before it stopped. */
  off(): Promise<ShadowStatus & { readonly final: RelayStatus | null }>;
  status(): Promise<ShadowStatus>;
  /** Writes the next `n` live request bodies to `file` (mirroring with 0% forwarded meanwhile if shadow is off). */
  capture(request: CaptureRequest): Promise<CaptureResult>;
}

export interface CaptureRequest {
  readonly n: number;
  /** Absolute path of the JSON Lines file to write. */
  readonly file: string;
  readonly timeoutMs: number;
  readonly queueSize: number;
}

export interface CaptureResult {
  readonly file: string;
  readonly n: number;
  readonly captured: number;
  /** True when fewer than n live requests came before the timeout. */
  readonly timedOut: boolean;
  /** Whether shadow traffic was off, and so was turned on (forwarding 0%) for the capture only. */
  readonly shadowWasOff: boolean;
}

/** What a backend that waits on its platform (containers, rollouts) needs: time, and where progress goes. */
export interface BackendRuntime {
  readonly clock: Clock;
  readonly progress: (line: string) => void;
}

/** What `up` is asked for: from flags or BLUEGREEN_* variables; undefined = the spec's. */
export interface UpRequest {
  readonly ports: { readonly routerPort?: number; readonly bluePort?: number; readonly greenPort?: number };
  readonly models: Partial<Record<Color, string>>;
  readonly logLevel?: string;
  readonly timeoutMs?: number;
}

/** Where a color's model came from, so `up` can say why it runs what it runs. */
export type ModelSource = 'flag' | 'last release' | 'spec';

/** One replica of a color as `up` started it: its process (local) or container (Compose) name. */
export interface StartedReplica {
  readonly name: string;
  readonly pid: number | null;
}

export interface StartedColor {
  readonly color: Color;
  /** Replica 1's process, when there is one. */
  readonly pid: number | null;
  /** Every replica of the color (where the backend runs them). */
  readonly replicas?: readonly StartedReplica[];
  readonly port: number;
  readonly url: string;
  readonly model: string;
  readonly modelSource: ModelSource;
  readonly version: string;
  readonly featureCount: number;
  readonly modelSha256: string | null;
}

export type UpResult =
  | { readonly kind: 'already-up'; readonly status: BackendStatus }
  | {
      readonly kind: 'started';
      readonly backend: BackendKind;
      readonly routes: Routes;
      readonly live: Color;
      readonly preview: Color;
      readonly routerUrl: string;
      readonly previewUrl: string;
      readonly nginxPid: number | null;
      readonly colors: Readonly<Record<Color, StartedColor>>;
      readonly notes: readonly string[];
      readonly durationMs: number;
      readonly stateDir: string;
      readonly logDir: string;
    };

export interface DownRequest {
  readonly reset?: boolean;
  readonly timeoutMs?: number;
}

/** What `down` did to one process or container. */
export interface StoppedProcess {
  readonly name: string;
  readonly pid: number | null;
  readonly result:
    'no pid file' | 'invalid pid file' | 'was not running' | 'not ours, left alone' | 'stopped' | 'killed' | 'survived SIGKILL';
  readonly ms?: number;
}

export interface DownResult {
  readonly kind: 'stopped' | 'nothing';
  readonly processes: readonly StoppedProcess[];
  readonly removedRuntimeDir: boolean;
  readonly notes: readonly string[];
}

export interface ReleaseRequest {
  readonly model?: string;
  /** A container image, where the backend runs images (Compose). */
  readonly image?: string;
  /** Must be the idle color when given; undefined = the idle color. */
  readonly color?: Color;
  readonly timeoutMs?: number;
}

export interface ReleaseResult {
  readonly color: Color;
  readonly model: string;
  readonly image?: string;
  readonly previousModel: string | null;
  /** What the color ran before, so a release can be put back: `release` with these values. */
  readonly previous: { readonly model: string | null; readonly image: string | null };
  /** Replica 1's process, when there is one. */
  readonly pid: number | null;
  /** Every replica the release started (where the backend runs them). */
  readonly replicas?: readonly StartedReplica[];
  readonly version: string;
  readonly featureCount: number;
  readonly modelSha256: string | null;
  readonly previewUrl: string;
  readonly live: { readonly color: Color; readonly version: string | null; readonly featureCount: number | null };
  readonly notes: readonly string[];
  readonly durationMs: number;
}

/**
 * How a process or container of the stack is doing: `running`; locally also `none` (no pid
 * file), `dead`, `not-ours` (the pid is another program now), `invalid-pid-file`; `unknown` when
 * the backend can not tell.
 */
export type ProcessState = 'running' | 'none' | 'dead' | 'not-ours' | 'invalid-pid-file' | 'unknown';

/** One replica of a color as `status` shows it. */
export interface ReplicaStatus {
  /** 1-based; replica 1 has the color's port and the color's own process or container name. */
  readonly replica: number;
  /** Its process name (`blue-2`) or container (`ml-service-blue-2`). */
  readonly name: string;
  readonly process: ProcessState;
  readonly pid: number | null;
  /** What its supervisor (or the container engine) says: `ready`, `starting`, `backoff`, ... */
  readonly phase: string | null;
  /** Restarts after an unexpected exit, as far as the backend knows. */
  readonly restarts: number | null;
  /** Its own /health, on its own socket: the version it serves. */
  readonly health: HealthView;
}

export interface ColorStatus {
  readonly color: Color;
  readonly role: 'live' | 'preview' | null;
  readonly process: ProcessState;
  /** The local process (replica 1's), when there is one. */
  readonly pid: number | null;
  /** The Compose container (replica 1's). */
  readonly container?: string;
  readonly port: number | null;
  readonly url: string | null;
  readonly model: string | null;
  /** Healthy and desired replicas (Kubernetes: the Deployment's ready and desired pods). */
  readonly replicas?: { readonly ready: number; readonly desired: number };
  /** Each replica (local and Compose). */
  readonly replicaList?: readonly ReplicaStatus[];
  readonly image?: string;
  readonly versionLabel?: string | null;
  readonly health: HealthView;
}

export interface RouterStatus {
  readonly url: string;
  readonly previewUrl: string;
  readonly port: number;
  readonly requestedPort: number;
  readonly process: ProcessState;
  readonly pid: number | null;
  readonly container?: string;
  /** What nginx answers on / right now: the version it is serving. */
  readonly serving: HealthView;
  /** What nginx answers on the preview route right now. */
  readonly previewServing: HealthView;
}

/** `deploy:status` of any backend; `healthy` decides the exit status. The history part is added by the command. */
export interface BackendStatus {
  readonly backend: BackendKind;
  /** The local state folder, or the Compose command. */
  readonly where: string;
  readonly stack: 'never started' | 'stopped' | 'running' | 'partly running';
  readonly healthy: boolean;
  readonly routes: Routes | null;
  readonly live: Color | null;
  readonly preview: Color | null;
  readonly router: RouterStatus | null;
  readonly colors: Readonly<Record<Color, ColorStatus>> | null;
  readonly notes: readonly string[];
  /** The local stack's supervisor and what it reports of each process (restarts, last exit). */
  readonly supervisor?: SupervisorStatusView;
  /** Where the backend has shadow traffic: whether it is on, and the relay's counters. */
  readonly shadow?: ShadowStatus;
}

/** One supervised process as `status` shows it. */
export interface SupervisedStatus {
  readonly phase: string;
  readonly pid: number | null;
  readonly restarts: number;
  readonly lastExit: { readonly at: string; readonly reason: string } | null;
  readonly adopted: boolean;
  readonly logTail: string | null;
}

export interface SupervisorStatusView {
  readonly process: ProcessState;
  readonly pid: number | null;
  readonly processes: Readonly<Record<string, SupervisedStatus>>;
}
