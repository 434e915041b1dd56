import type { Backend } from '../backends/backend';
import type { Clock } from '../effects/deps';
import type { LockFiles } from '../effects/lock';
import type { Gate, SwitchTiming } from '../gates/gate';

/** The files every backend keeps in the local state folder: the lock and the history. */
export interface StateFiles extends LockFiles {
  readonly historyFile: string;
}

/** What every command runs with: one backend, chosen once by the CLI. */
export interface CommandContext {
  readonly backend: Backend;
  readonly files: StateFiles;
  readonly clock: Clock;
  readonly userName: string;
  /** Long work reports here (stderr under --json). */
  readonly progress: (line: string) => void;
  /** The preflight of a switch or rollback, in order (the spec's `switch.preflight`). */
  readonly preflight: readonly Gate[];
  readonly timing?: SwitchTiming;
}

/** The specifics of a failure, without the catalogue's sentence when it is a DeployError. */
export function reasonOf(error: unknown): string {
  if (error && typeof error === 'object' && 'detail' in error && typeof error.detail === 'string') return error.detail;
  return error instanceof Error ? error.message : String(error);
}
