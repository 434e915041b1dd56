import type { BackendStatus, CaptureResult, Color, DownResult, RelayStatus, ReleaseResult, ShadowStatus, UpResult } from '@mlbg/contract';
import type { Clock, HttpAnswer, HttpCall } from '../effects/deps';
import type { ColorAccess } from '../gates/gate';
import type { BackendKind } from '../history/history';
import type { Routes } from '../routing/routes';

// What a backend answers crosses the process (the CLI's --json, the dashboard): the contract has its shapes.
export type {
  BackendStatus,
  CaptureResult,
  ColorStatus,
  DownResult,
  ModelSource,
  ProcessState,
  ReleaseResult,
  ReplicaStatus,
  RouterStatus,
  ShadowStatus,
  StartedColor,
  StartedReplica,
  StoppedProcess,
  SupervisedStatus,
  SupervisorStatusView,
  UpResult,
} from '@mlbg/contract';

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

export interface DownRequest {
  readonly reset?: boolean;
  readonly timeoutMs?: number;
}

export interface ReleaseRequest {
  readonly model?: string;
  /** A container image, where the backend runs images (Compose). */
  readonly image?: string;
  /** Must be the idle color when given; undefined = the idle color. */
  readonly color?: Color;
  readonly timeoutMs?: number;
}
