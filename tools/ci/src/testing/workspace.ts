import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary as findBinaryOnPath } from '@mlbg/deploy';

/** The repository root, whatever folder Jest runs in. */
export const WORKSPACE_ROOT = join(__dirname, '../../../..');

/** A file of the repository as text. */
export function readWorkspaceFile(path: string): string {
  return readFileSync(join(WORKSPACE_ROOT, path), 'utf8');
}

/** A JSON file of the repository. */
export function readWorkspaceJson<T = unknown>(path: string): T {
  return JSON.parse(readWorkspaceFile(path)) as T;
}

/** The absolute path of an executable on PATH (or in the sbin folders), or undefined. */
export function findBinary(name: string): string | undefined {
  return findBinaryOnPath(name, process.env['PATH']);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; output as text. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? WORKSPACE_ROOT,
    env: options.env ?? process.env,
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `describe`, or `describe.skip` with a message saying which tool is missing. */
export function describeWhen(available: boolean, tool: string): jest.Describe {
  if (available) return describe;
  console.warn(`Skipping tests that need ${tool}: it is not installed here.`);
  return describe.skip;
}
