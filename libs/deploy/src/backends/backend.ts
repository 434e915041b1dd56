import type {
  BackendStatus,
  CaptureResult,
  Color,
  DownResult,
  RelayStatus,
  ReleaseResult,
  ShadowStatus,
  TrafficPoint,
  UpResult,
} from '@mlbg/contract';
import type { Clock, HttpAnswer, HttpCall } from '../effects/deps';
import type { ServedTraffic } from '../gates/analysis/served';
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

  /**
   * Each color's traffic over time where the backend keeps it (Prometheus, on Kubernetes), for the
   * dashboard's charts; absent where the dashboard measures it itself (the colors' /metrics, nginx's log).
   */
  readonly charts?: ChartSource;
}

export interface ChartSample {
  /** ms since the epoch. */
  readonly t: number;
  readonly blue: TrafficPoint | null;
  readonly green: TrafficPoint | null;
}

export interface ChartSource {
  /** How far apart its points are (the scrape interval: nothing changes in between). */
  readonly stepMs: number;
  /** Each color's points from `startMs` to `endMs`, one every `stepMs`. */
  range(startMs: number, endMs: number): Promise<readonly ChartSample[]>;
}

/** What `deploy:canary` needs of a backend besides setting weighted routes. */
export interface CanaryAccess {
  /** Weights are multiples of 100 / slots (locally the live route's slot links; Kubernetes: 100, any whole percent). */
  readonly slots: number;
  /** The preview route's path prefix through the router, e.g. `/preview/` (probes to the canary go there). */
  readonly previewPathPrefix: string;
  /** A request through the router, on a fresh connection (probes): under `previewPathPrefix` to the canary, else the live route. */
  request(call: HttpCall): Promise<HttpAnswer>;
  /** What each color serves, over the windows of one run (its intervals). */
  meter(colors: { readonly stable: Color; readonly canary: Color }): TrafficMeter;
  /**
   * What each color served in a window that already happened (`deploy:judge --since`), as exactly as
   * the backend kept it (locally nginx's access log; Kubernetes the colors' counters in Prometheus
   * at both ends). `routes`: the routes now, for what the router answered by itself.
   */
  servedBetween(window: PastWindow, routes: Routes): Promise<MeteredWindow>;
}

/** A window that already happened, in ms since the epoch. */
export interface PastWindow {
  readonly sinceMs: number;
  readonly untilMs: number;
}

/** What each color served in one window, and what could not be read (an empty list when all was). */
export interface MeteredWindow {
  readonly served: Readonly<Record<Color, ServedTraffic>>;
  readonly notes: readonly string[];
}

/**
 * Counts what each color serves, one window at a time (locally nginx's access log read on from
 * where the last window ended; on Kubernetes the colors' counters in Prometheus).
 */
export interface TrafficMeter {
  /** How long after a window began its counts say anything (nginx flushes its log every second; Prometheus scrapes every 15 s). */
  readonly settleMs: number;
  /** Starts a window with the canary at `weight` percent. */
  begin(weight: number): Promise<void>;
  /** The requests each color answered in the window so far. */
  counted(): Promise<Readonly<Record<Color, number>>>;
  /** Ends the window: what each color served in it, and what could not be read (an empty list when all was). */
  end(): Promise<MeteredWindow>;
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
