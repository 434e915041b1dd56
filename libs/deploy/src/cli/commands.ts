import type { CommandDescriptor, CommandLine, ResultOf } from '../commands/command';
import { COMMANDS } from '../commands/registry';
import { CLI_SERVED } from './args';
import { FORMATTERS, type Formatter } from './format';

/** The commands the CLI runs on a deployment, and how it shows each one's result. */
export interface CliRegistry {
  readonly commands: readonly CommandDescriptor[];
  /** The lines for people of a command's result (what --json leaves out). */
  readonly format: (name: string, result: unknown) => string[];
}

/** The registry's commands with cli/format.ts's formatters. */
export const CLI_REGISTRY: CliRegistry = {
  commands: COMMANDS,
  format: (name, result) => (FORMATTERS[name as keyof typeof FORMATTERS] as Formatter<unknown>)(result),
};

/** `registry` with one more command (and its formatter): how a test shows that a descriptor is all a command needs. */
export function withCommand<C extends CommandDescriptor>(registry: CliRegistry, command: C, format: Formatter<ResultOf<C>>): CliRegistry {
  return {
    commands: [...registry.commands, command],
    format: (name, result) => (name === command.name ? format(result as ResultOf<C>) : registry.format(name, result)),
  };
}

/** Every command line the CLI reads with `registry`: its commands, then the two the CLI serves itself. */
export function commandLines(registry: CliRegistry): readonly CommandLine[] {
  return [...registry.commands, ...CLI_SERVED];
}
