import { spawnSync } from 'node:child_process';
import { findBinary as findBinaryOnPath } from '../effects/real-deps';

/** The absolute path of an executable on PATH (or in the sbin folders), or undefined. */
export function findBinary(name: string): string | undefined {
  return findBinaryOnPath(name, process.env['PATH']);
}

/** `describe`, or `describe.skip` with a message saying which tool is missing. */
export function describeWithBinary(binary: string | undefined, name: string): jest.Describe {
  if (binary) return describe;
  console.warn(`Skipping tests that need the real \`${name}\`: it is not installed (not on PATH or in /usr/sbin).`);
  return describe.skip;
}

/** Runs a command to completion; output as text. */
export function run(command: string, args: readonly string[], options: { cwd?: string } = {}) {
  const result = spawnSync(command, args, { cwd: options.cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, error: result.error };
}
