import type { Color } from '@mlbg/contract';
import type { Clock, HttpAnswer, HttpCall } from '../effects/deps';
import type { HealthView } from '../effects/service-client';
import type { ServedTraffic } from '../gates/analysis/served';
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

  /**
   * Each color's traffic over time where the backend keeps it (Prometheus, on Kubernetes), for the
   * dashboard's charts; absent where the dashboard measures it itself (the colors' /metrics, nginx's log).
   */
  readonly charts?: ChartSource;
}

/** One color's traffic at one moment, as the dashboard's charts draw it. null: no requests (no rate to show) or no data. */
export interface TrafficPoint {
  readonly rps: number;
  /** 5xx answers / all answers. */
  readonly errorShare: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
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
  end(): Promise<{ readonly served: Readonly<Record<Color, ServedTraffic>>; readonly notes: readonly string[] }>;
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

export interface StartedColor {
  readonly color: Color;
  readonly pid: number | null;
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
  readonly pid: number | null;
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

export interface ColorStatus {
  readonly color: Color;
  readonly role: 'live' | 'preview' | null;
  readonly process: ProcessState;
  /** The local process, when there is one. */
  readonly pid: number | null;
  /** The Compose container. */
  readonly container?: string;
  readonly port: number | null;
  readonly url: string | null;
  readonly model: string | null;
  /** Kubernetes: the Deployment's ready and desired pods, its image and its `version` label. */
  readonly replicas?: { readonly ready: number; readonly desired: number };
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
