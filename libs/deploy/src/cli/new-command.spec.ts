import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineCommand } from '../commands/command';
import { flagValue, switchFlag, textFlag, wholeNumber } from '../commands/flags';
import type { RuntimeDeps } from '../effects/deps';
import { DeployError } from '../errors';
import { fakeClock } from '../testing/fakes';
import { CLI_REGISTRY, type CliRegistry, withCommand } from './commands';
import { runCli } from './run';

/**
 * A command that exists only in this test: one descriptor and one formatter are all it takes to
 * be parsed (flags, variables, messages), run on the chosen backend, answered in --json, judged
 * and listed by `help`.
 */
const greet = defineCommand({
  name: 'greet',
  summary: 'says hello from the chosen deployment (a command this test adds)',
  flags: z.object({
    to: textFlag(
      flagValue(
        (text) => (/^[a-z]+$/.test(text) ? text : undefined),
        (text) => `{flag} must be a name in lowercase letters, not "${text}"`,
        'greet needs --to=<a name>, e.g. --to=ana',
      ),
      { value: 'NAME', env: 'BLUEGREEN_GREET_TO' },
    ),
    times: textFlag(wholeNumber(1).default(1), { value: 'N' }),
    shout: switchFlag(),
  }),
  options: (flags) => flags,
  run: async (context, options) => {
    const hello = Array.from({ length: options.times }, () => `hello ${options.to}`).join(', ');
    return { to: options.to, greeting: options.shout ? hello.toUpperCase() : hello, backend: context.backend.kind, by: context.userName };
  },
  verdict: (result) =>
    result.to === 'nobody' ? { ok: false, error: new DeployError('PREFLIGHT_FAILED', 'there is nobody to greet.') } : { ok: true },
});

describe('a command added by its descriptor alone, through the real CLI entry (runCli)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-new-command-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cli = async (argv: string[], options: { env?: Record<string, string>; registry?: CliRegistry } = {}) => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const deps = { clock: fakeClock(), userName: 'tester', tmpRoot: dir } as unknown as RuntimeDeps;
    const code = await runCli(argv, {
      env: options.env ?? {},
      workspaceRoot: dir,
      cwd: dir,
      stdout: (text) => stdout.push(text),
      stderr: (text) => stderr.push(text),
      deps: (progress) => ({ ...deps, progress }),
      registry: options.registry ?? withCommand(CLI_REGISTRY, greet, (result) => [`${result.greeting} (from ${result.backend})`]),
    });
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  };

  it('runs it with its flags and answers for people, or in --json with the envelope every command has', async () => {
    expect(await cli(['greet', '--to=ana', '--times=2', '--shout'])).toEqual({
      code: 0,
      stdout: 'HELLO ANA, HELLO ANA (from local)',
      stderr: '',
    });
    const json = await cli(['greet', '--to', 'bo', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      command: 'greet',
      result: { to: 'bo', greeting: 'hello bo', backend: 'local', by: 'tester' },
    });
  });

  it('falls back to its variable, and a flag wins over it', async () => {
    expect((await cli(['greet'], { env: { BLUEGREEN_GREET_TO: 'cy' } })).stdout).toBe('hello cy (from local)');
    expect((await cli(['greet', '--to=di'], { env: { BLUEGREEN_GREET_TO: 'cy' } })).stdout).toBe('hello di (from local)');
  });

  it('refuses bad usage with exit 2, its own messages naming how the value was given, and the help', async () => {
    const bad = await cli(['greet', '--to=Ana']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^deploy: The command line is not valid\. greet: --to must be a name in lowercase letters, not "Ana"\.\n\nUsage: deploy <command>/,
    );
    expect((await cli(['greet'], { env: { BLUEGREEN_GREET_TO: '42' } })).stderr).toContain(
      'greet: BLUEGREEN_GREET_TO must be a name in lowercase letters, not "42".',
    );
    expect((await cli(['greet'])).stderr).toContain(' greet: greet needs --to=<a name>, e.g. --to=ana.');
    expect((await cli(['greet', '--to=ana', '--times=0'])).stderr).toContain('greet: --times must be a whole number >= 1, not "0".');
    expect((await cli(['greet', '--to=ana', '--loud'])).stderr).toContain(" greet: Unknown option '--loud'");
    expect((await cli(['greet', '--to=ana', 'twice'])).stderr).toContain(' greet: unexpected argument "twice".');
    const json = await cli(['greet', '--to=Ana', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      command: 'greet',
      error: { code: 'USAGE', message: expect.stringContaining('--to must be') },
    });
  });

  it('judges its result by its verdict: refused is exit 1 with the error', async () => {
    const refused = await cli(['greet', '--to=nobody', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      ok: false,
      command: 'greet',
      result: { to: 'nobody' },
      error: { code: 'PREFLIGHT_FAILED', message: expect.stringContaining('there is nobody to greet.') },
    });
    const text = await cli(['greet', '--to=nobody']);
    expect(text).toMatchObject({ code: 1, stderr: expect.stringContaining('deploy greet: ') });
  });

  it('is listed by help with its summary and flags, and among the commands an unknown one names', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      '  greet     says hello from the chosen deployment (a command this test adds)\n            --to NAME [--times N (1)] [--shout]',
    );
    expect(help.stdout).toContain('BLUEGREEN_GREET_TO (--to)');
    expect((await cli(['greeet'])).stderr).toContain(
      'the commands are up, down, status, switch, rollback, release, canary, promote, judge, shadow, diff, capture, greet, dashboard, help',
    );
  });

  it('does not exist without its descriptor', async () => {
    const without = await cli(['greet', '--to=ana'], { registry: CLI_REGISTRY });
    expect(without.code).toBe(2);
    expect(without.stderr).toContain(' unknown command "greet"');
    expect((await cli(['help'], { registry: CLI_REGISTRY })).stdout).not.toContain('greet');
  });
});
