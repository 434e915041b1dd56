import { canaryDescriptor } from './canary/canary.command';
import { promoteDescriptor } from './canary/promote.command';
import type { OptionsOf, ResultOf } from './command';
import { judgeDescriptor } from './judge/judge.command';
import { captureDescriptor } from './shadow/capture.command';
import { diffDescriptor } from './shadow/diff.command';
import { shadowDescriptor } from './shadow/shadow.command';
import { downDescriptor } from './stack/down.command';
import { releaseDescriptor } from './stack/release.command';
import { statusDescriptor } from './stack/status.command';
import { upDescriptor } from './stack/up.command';
import { rollbackDescriptor } from './switch/rollback.command';
import { switchDescriptor } from './switch/switch.command';

/**
 * Every command that runs on a deployment, in the order `help` lists them. A new command is one
 * descriptor file beside its code (`<name>.command.ts`, see command.ts), one entry here, one
 * formatter in cli/format.ts and one line in the README; the CLI's parser and help, the Nx
 * executor's schema, the project's targets (checked) and the dashboard's actions follow.
 */
export const COMMANDS = [
  upDescriptor,
  downDescriptor,
  statusDescriptor,
  switchDescriptor,
  rollbackDescriptor,
  releaseDescriptor,
  canaryDescriptor,
  promoteDescriptor,
  judgeDescriptor,
  shadowDescriptor,
  diffDescriptor,
  captureDescriptor,
] as const;

export type RegisteredCommand = (typeof COMMANDS)[number];
export type CommandName = RegisteredCommand['name'];
export type CommandNamed<N extends CommandName> = Extract<RegisteredCommand, { readonly name: N }>;
export type CommandOptions<N extends CommandName> = OptionsOf<CommandNamed<N>>;
export type CommandResult<N extends CommandName> = ResultOf<CommandNamed<N>>;
