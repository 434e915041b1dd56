/**
 * Everything the runtime does to the outside world goes through these, so each command can be
 * tested with fakes (a recording command runner, a scripted http client) or run for real
 * (`real-deps.ts`).
 */

/** Where to send a request: a unix socket, or host and port. */
export interface HttpTarget {
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
}

export interface HttpCall {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  readonly timeoutMs?: number;
  /** Extra request headers (e.g. X-Request-Id of a replayed request). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** One request on a fresh connection (never kept alive, so it follows the symlinks as they are now). Rejects when it can not connect. */
export type HttpClient = (target: HttpTarget, call: HttpCall) => Promise<HttpAnswer>;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface CommandResult {
  /** null when the command could not be run at all (see `error`) or was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: string;
}

/** Runs a command to completion; never rejects. */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: { readonly cwd?: string; readonly timeoutMs?: number },
) => Promise<CommandResult>;

/** What the system says about a live process. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly cmdline: readonly string[];
  /** undefined when it can not be read (another user's process). */
  readonly environ?: Readonly<Record<string, string>>;
}

export interface DetachedSpawn {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
}

export interface ProcessControl {
  /** Starts a process in its own session that outlives the caller; returns its pid. */
  spawnDetached(spawn: DetachedSpawn): number;
  /** undefined when there is no such process (a zombie counts as gone). */
  inspect(pid: number): ProcessInfo | undefined;
  children(pid: number): number[];
  /** false when there is no such process. */
  signal(pid: number, signal: NodeJS.Signals): boolean;
}

export type BindCheck = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/** Where a command can be paused by the test hook: after the preflight and the intent, before the route moves; after the rename, before the state file is renamed into place. */
export type TestPausePoint = 'before-flip' | 'after-rename';
/** TEST HOOK (BLUEGREEN_TEST_PAUSE_AT=<point>): waits at that point until SIGUSR2, so a test can kill the command there or change the world and let it go on. */
export type TestPause = (point: TestPausePoint) => Promise<void>;

export interface RuntimeDeps {
  readonly workspaceRoot: string;
  /** `os.tmpdir()`: the runtime folder (sockets, nginx prefix) goes under it. */
  readonly tmpRoot: string;
  /** The effective user id (0 = root: nginx workers then run as `nobody`). */
  readonly uid: number;
  /** The user name written to the history. */
  readonly userName: string;
  readonly clock: Clock;
  readonly http: HttpClient;
  readonly processes: ProcessControl;
  readonly run: CommandRunner;
  /** The absolute path of an executable, or undefined. */
  readonly findBinary: (name: string) => string | undefined;
  readonly canBind: (port: number, host: string) => Promise<BindCheck>;
  /** The environment the services inherit (the command's own, read once by the CLI). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The node binary that runs the services. */
  readonly nodeBinary: string;
  /** Long waits report here (stderr under --json, so stdout stays one JSON document). */
  readonly progress: (line: string) => void;
  /** TEST HOOK only (see {@link TestPause}); undefined in normal use. */
  readonly testPause?: TestPause;
}
