import { spawnSync } from 'node:child_process';
import { posix } from 'node:path';
import { WORKSPACE_ROOT, readWorkspaceFile } from './testing/workspace';
import { anchors, expandBraces, fencedBlockAfter, mapCovers, mapFolders, relativeLinks, slug } from './testing/markdown';

/** Every file git tracks, relative to the root. */
function trackedFiles(): string[] {
  const result = spawnSync('git', ['ls-files', '-z'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ls-files failed: ${result.stderr}`);
  return result.stdout.split('\0').filter(Boolean);
}

/** Every folder that holds a tracked file, at any depth (the root left out). */
function trackedFolders(files: readonly string[]): Set<string> {
  const folders = new Set<string>();
  for (const file of files) {
    for (let dir = posix.dirname(file); dir !== '.'; dir = posix.dirname(dir)) folders.add(dir);
  }
  return folders;
}

/** What is wrong with one link of `from` (a tracked .md file), or undefined when it leads somewhere. */
function brokenLink(from: string, target: string, files: ReadonlySet<string>, folders: ReadonlySet<string>): string | undefined {
  const [rawPath = '', anchor] = target.split('#', 2);
  const path = rawPath === '' ? from : posix.normalize(posix.join(posix.dirname(from), decodeURIComponent(rawPath))).replace(/\/$/, '');
  if (!files.has(path) && !folders.has(path)) return `${target}: no file or folder ${path}`;
  if (anchor === undefined || !path.endsWith('.md')) return undefined;
  return anchors(readWorkspaceFile(path)).has(anchor) ? undefined : `${target}: ${path} has no heading with the anchor #${anchor}`;
}

describe("GitHub's heading anchors", () => {
  it('lowercase the text, drop punctuation and code marks, turn spaces into dashes', () => {
    expect(slug('Coming from the Python project')).toBe('coming-from-the-python-project');
    expect(slug('What `nx run ci:test` checks')).toBe('what-nx-run-citest-checks');
    expect(slug("The deploy tool's integration tests")).toBe('the-deploy-tools-integration-tests');
    expect(slug('Routes, sockets and weights')).toBe('routes-sockets-and-weights');
    expect(slug('The spec (`deploy/deployment.json`)')).toBe('the-spec-deploydeploymentjson');
    expect(slug('`--backend=kubernetes`')).toBe('--backendkubernetes');
    expect(slug('Open Inference Protocol (V2)')).toBe('open-inference-protocol-v2');
  });

  it('number repeated headings -1, -2, and ignore headings inside code blocks', () => {
    const text = ['# Tests', '## Tests', '```', '# Not a heading', '```', '### Tests ##'].join('\n');
    expect([...anchors(text)]).toEqual(['tests', 'tests-1', 'tests-2']);
  });
});

describe('links found in Markdown', () => {
  it('are the relative ones outside code, images included', () => {
    const text = [
      'See [Operate](docs/operate.md#errors) and [the web](https://example.com).',
      '![A picture](apps/dashboard/docs/dashboard.png) `[not](a-link.md)`',
      '```',
      '[also not](inside-code.md)',
      '```',
      '[here](#a-heading)',
    ].join('\n');
    expect(relativeLinks(text).map((link) => link.target)).toEqual([
      'docs/operate.md#errors',
      'apps/dashboard/docs/dashboard.png',
      '#a-heading',
    ]);
  });

  it('are reported when their file or anchor is missing', () => {
    const files = new Set(['README.md', 'docs/operate.md']);
    const folders = new Set(['docs']);
    expect(brokenLink('README.md', 'docs/operate.md#errors', files, folders)).toBeUndefined();
    expect(brokenLink('README.md', 'docs/', files, folders)).toBeUndefined();
    expect(brokenLink('docs/operate.md', '../README.md#map', files, folders)).toBeUndefined();
    expect(brokenLink('README.md', 'docs/missing.md', files, folders)).toBe('docs/missing.md: no file or folder docs/missing.md');
    expect(brokenLink('README.md', 'docs/operate.md#no-such-heading', files, folders)).toBe(
      'docs/operate.md#no-such-heading: docs/operate.md has no heading with the anchor #no-such-heading',
    );
  });
});

describe("README.md's map", () => {
  it('reads a tree with braces and wildcards', () => {
    expect(expandBraces('a/{b,c/{d,e}}/')).toEqual(['a/b/', 'a/c/d/', 'a/c/e/']);
    const map = [
      'apps/          the apps',
      '  e2e/src/',
      '    {api,support}/   specs',
      'models/',
      '  fixtures/*/',
      'Dockerfile     a file',
    ].join('\n');
    expect(mapFolders(map)).toEqual(['apps', 'apps/e2e/src', 'apps/e2e/src/api', 'apps/e2e/src/support', 'models', 'models/fixtures/*']);
    expect(mapCovers('apps/e2e/src/api', 'apps/e2e')).toBe(true);
    expect(mapCovers('models/fixtures/*', 'models/fixtures/torch-mlp')).toBe(true);
    expect(mapCovers('apps/e2e/src/api', 'apps/e2e/src/canary')).toBe(false);
  });
});

describe('the docs of this repository', () => {
  const files = trackedFiles();
  const fileSet = new Set(files);
  const folders = trackedFolders(files);
  const readme = readWorkspaceFile('README.md');

  it('link only to files, folders and headings that exist', () => {
    const broken = files
      .filter((file) => file.endsWith('.md'))
      .flatMap((file) =>
        relativeLinks(readWorkspaceFile(file)).flatMap(({ line, target }) => {
          const problem = brokenLink(file, target, fileSet, folders);
          return problem === undefined ? [] : [`${file}:${line}: ${problem}`];
        }),
      );
    expect(broken).toEqual([]);
  });

  it("README.md's map names every folder of the repository, and no folder that is gone", () => {
    const map = fencedBlockAfter(readme, '## Map');
    expect(map).toBeDefined();
    const named = mapFolders(map ?? '');
    expect([...folders].filter((folder) => !named.some((entry) => mapCovers(entry, folder))).sort()).toEqual([]);
    const depth = (path: string) => path.split('/').length;
    expect(named.filter((entry) => ![...folders].some((folder) => mapCovers(entry, folder) && depth(entry) === depth(folder)))).toEqual([]);
  });

  it("README.md keeps the test command .ci/run extracts (sed -n 's/^\\$ \\(.*npm test\\)$/\\1/p')", () => {
    expect(readme.split('\n').filter((line) => /^\$ (.*npm test)$/.test(line))).toHaveLength(1);
    expect(readWorkspaceFile('.ci/run')).toContain("sed -n 's/^\\$ \\(.*npm test\\)$/\\1/p' README.md");
  });

  it('keeps work journals out of the repository root', () => {
    expect(files.filter((file) => /^NOTES/i.test(file))).toEqual([]);
  });
});
