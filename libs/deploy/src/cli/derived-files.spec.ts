import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findStaleFiles } from '../render/committed-files';
import { COMMAND_LINES } from './args';
import { EXECUTOR_SCHEMA_PATH, renderExecutorSchema } from './executor-schema';

const WORKSPACE_ROOT = join(__dirname, '../../../..');

describe('what is derived from the command registry', () => {
  it('the committed executor schema is what `nx run deploy:generate` renders from it', () => {
    const stale = findStaleFiles([renderExecutorSchema()], (path) => {
      const file = join(WORKSPACE_ROOT, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    });
    if (stale.length > 0)
      throw new Error(
        `${EXECUTOR_SCHEMA_PATH} differs from the command registry: run \`npx nx run deploy:generate\` and commit it (never edit it by hand).`,
      );
    const schema = JSON.parse(readFileSync(join(WORKSPACE_ROOT, EXECUTOR_SCHEMA_PATH), 'utf8')) as {
      properties: { command: { enum: string[] } };
    };
    expect(schema.properties.command.enum).toEqual(COMMAND_LINES.map(({ name }) => name));
  });

  it('libs/deploy/project.json has exactly one @mlbg/deploy:cli target per command, named after it', () => {
    const project = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'libs/deploy/project.json'), 'utf8')) as {
      targets: Record<string, { executor?: string; options?: { command?: string } }>;
    };
    const cliTargets = Object.entries(project.targets).filter(([, target]) => target.executor === '@mlbg/deploy:cli');
    expect(cliTargets.map(([name, target]) => [name, target.options?.command])).toEqual(cliTargets.map(([name]) => [name, name]));
    const commands = COMMAND_LINES.map(({ name }) => name).filter((name) => name !== 'help');
    expect(cliTargets.map(([name]) => name).sort()).toEqual([...commands].sort());
  });

  it("docs/operate.md's commands table has one row per command, in the registry's order", () => {
    const operate = readFileSync(join(WORKSPACE_ROOT, 'docs/operate.md'), 'utf8');
    const section = operate.slice(operate.indexOf('\n## Commands\n'), operate.indexOf('\n### ', operate.indexOf('\n## Commands\n')));
    const documented = [...section.matchAll(/^\| `deploy:([a-z-]+)` \|/gm)].map((match) => match[1]);
    const commands = COMMAND_LINES.map(({ name }) => name).filter((name) => name !== 'help');
    expect(documented).toEqual(commands);
  });
});
