import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDockerfile } from './testing/dockerfile';
import { loadWorkflow, workflowFiles } from './testing/workflows';
import { readWorkspaceFile, readWorkspaceJson, run, WORKSPACE_ROOT } from './testing/workspace';

/**
 * End of life of each Node LTS line (https://github.com/nodejs/release#release-schedule). A line
 * missing here, or past its date, fails: move to a supported LTS and add its date.
 */
const LTS_END_OF_LIFE: Record<number, string> = {
  20: '2026-04-30',
  22: '2027-04-30',
  24: '2028-04-30',
  26: '2029-04-30',
};

const NVMRC = '.nvmrc';
const pinned = () => readWorkspaceFile(NVMRC).trim();
const major = (version: string) => Number(version.split('.')[0]);

describe('the Node the project runs on', () => {
  it(`is one exact version, in ${NVMRC}`, () => {
    expect(existsSync(join(WORKSPACE_ROOT, NVMRC))).toBe(true);
    expect(pinned()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is a supported LTS line today', () => {
    const endOfLife = LTS_END_OF_LIFE[major(pinned())];
    expect({ line: major(pinned()), endOfLife }).toEqual({ line: major(pinned()), endOfLife: expect.any(String) });
    expect(new Date(`${endOfLife}T00:00:00Z`).getTime()).toBeGreaterThan(Date.now());
  });

  it('is what every stage of the image is built from', () => {
    const stages = parseDockerfile(readWorkspaceFile('Dockerfile')).stages;
    expect(stages.map((stage) => stage.image)).toEqual(stages.map(() => `node:${pinned()}-bookworm-slim`));
  });

  it.each(workflowFiles())('is what %s sets up, in every job that sets up Node', async (file) => {
    const workflow = await loadWorkflow(file);
    for (const [id, job] of Object.entries(workflow.raw.jobs)) {
      for (const step of (job.steps ?? []).filter((candidate) => candidate.uses?.startsWith('actions/setup-node@')))
        expect({ job: id, with: step.with }).toEqual({ job: id, with: { 'node-version-file': NVMRC, cache: 'npm' } });
      const container = typeof job.container === 'string' ? job.container : job.container?.image;
      if (container?.startsWith('node:'))
        expect({ job: id, container }).toEqual({ job: id, container: `node:${major(pinned())}-bookworm` });
    }
  });

  it("is what package.json's engines and @types/node name", () => {
    const root = readWorkspaceJson<{ engines: { node: string }; devDependencies: Record<string, string> }>('package.json');
    expect(root.engines.node).toBe(`>=${major(pinned())}`);
    expect(major(root.devDependencies['@types/node'])).toBe(major(pinned()));
  });

  it('is what .ci/run puts first on PATH before it runs the test command', () => {
    const script = readWorkspaceFile('.ci/run');
    const install = script.indexOf('PATH="$(.ci/install-node):$PATH"');
    expect(install).toBeGreaterThan(-1);
    expect(script.indexOf('bash -c "$test_command"')).toBeGreaterThan(install);
  });

  it("is the one the Compose suite's local base image is built from (tools/compose-e2e/engine/prepare.sh)", () => {
    expect(readWorkspaceFile('tools/compose-e2e/engine/prepare.sh')).toContain('"$WORKSPACE/.ci/install-node"');
  });
});

describe('.ci/install-node (npm faked: it packs a stand-in for the node-linux-<arch> package)', () => {
  let scratch: string;
  let fakeBin: string;
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';

  /** A fake `npm pack <name>@<version> --pack-destination <dir>` that logs its call and writes the tarball npm would. */
  function writeFakeNpm(reportedVersion?: string) {
    const npm = join(fakeBin, 'npm');
    writeFileSync(
      npm,
      [
        '#!/usr/bin/env bash',
        'set -euo pipefail',
        'echo "npm $*" >>"$FAKE_LOG"',
        '[ "$1" = pack ] || exit 3',
        'spec=$2; name=${spec%@*}; version=${spec##*@}; dest=.',
        'while [ $# -gt 0 ]; do [ "$1" = --pack-destination ] && dest=$2; shift; done',
        'tree=$(mktemp -d); mkdir -p "$tree/package/bin"',
        `printf '#!/bin/sh\\necho v%s\\n' "${reportedVersion ?? '$version'}" >"$tree/package/bin/node"`,
        'chmod +x "$tree/package/bin/node"',
        'tar -czf "$dest/$name-$version.tgz" -C "$tree" package',
        'rm -rf "$tree"',
        'echo "$name-$version.tgz"',
      ].join('\n'),
    );
    chmodSync(npm, 0o755);
  }
  const install = () =>
    run(join(WORKSPACE_ROOT, '.ci/install-node'), [], {
      env: {
        PATH: `${fakeBin}:/usr/bin:/bin`,
        HOME: scratch,
        MLBG_NODE_HOME: join(scratch, 'node-home'),
        FAKE_LOG: join(scratch, 'npm.log'),
      },
    });
  const npmCalls = () => (existsSync(join(scratch, 'npm.log')) ? readFileSync(join(scratch, 'npm.log'), 'utf8').trim().split('\n') : []);

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'install-node-'));
    fakeBin = join(scratch, 'bin');
    mkdirSync(fakeBin);
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('installs the pinned version from the npm registry into a folder and prints its bin folder; a second run reuses it', () => {
    writeFakeNpm();
    const first = install();
    const bin = join(scratch, 'node-home', `v${pinned()}-linux-${arch}`, 'bin');
    expect(first).toMatchObject({ status: 0, stdout: `${bin}\n` });
    expect(npmCalls()).toEqual([expect.stringMatching(new RegExp(`^npm pack node-linux-${arch}@${pinned().replace(/\./g, '\\.')} `))]);
    expect(run(join(bin, 'node'), ['--version']).stdout.trim()).toBe(`v${pinned()}`);

    const second = install();
    expect(second).toMatchObject({ status: 0, stdout: `${bin}\n` });
    expect(npmCalls()).toHaveLength(1);
  });

  it('refuses a package whose node says another version, and keeps nothing of it', () => {
    writeFakeNpm('20.20.2');
    const result = install();
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`expected v${pinned()}`);
    expect(existsSync(join(scratch, 'node-home', `v${pinned()}-linux-${arch}`))).toBe(false);
  });
});
