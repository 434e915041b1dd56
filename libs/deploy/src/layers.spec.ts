import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The library's layers, and which others each may import (libs/deploy/README.md, "Layers": cli ->
 * commands -> gates, routing, backends -> effects; render and spec are leaves used by all). Nx tags
 * guard the projects; this guards the folders inside this one. A new folder must be added here.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  // Small helpers on plain values, below everything.
  util: [],
  spec: ['util'],
  errors: [],
  render: ['spec', 'util'],
  routing: ['spec', 'util'],
  effects: ['errors', 'util'],
  gates: ['effects', 'errors', 'routing', 'spec', 'util'],
  history: ['gates', 'routing', 'util'],
  backends: ['effects', 'errors', 'gates', 'history', 'render', 'routing', 'spec', 'util'],
  commands: ['backends', 'effects', 'errors', 'gates', 'history', 'routing', 'spec', 'util'],
  // The dashboard's server sits beside cli (which starts it) and above commands (whose functions its buttons call).
  dashboard: ['backends', 'commands', 'effects', 'errors', 'gates', 'history', 'routing', 'spec', 'util'],
  cli: ['backends', 'commands', 'dashboard', 'effects', 'errors', 'gates', 'history', 'render', 'routing', 'spec', 'util'],
  executors: [],
  testing: ['backends', 'cli', 'commands', 'dashboard', 'effects', 'errors', 'gates', 'history', 'render', 'routing', 'spec', 'util'],
};

const SRC = __dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/** `spec`, `backends`, ... for a file under src/ (`errors.ts` is its own layer). */
function layerOf(file: string): string {
  const [first = ''] = relative(SRC, file).split(sep);
  return first.replace(/\.ts$/, '');
}

describe('the layers of @mlbg/deploy', () => {
  const files = sourceFiles(SRC).filter((file) => !['index', 'testing'].includes(relative(SRC, file).replace(/\.ts$/, '')));

  it('knows every folder', () => {
    expect([...new Set(files.map(layerOf))].filter((layer) => !(layer in MAY_IMPORT))).toEqual([]);
  });

  it('imports only downwards', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import) '(\.{1,2}\/[^']+)'/g)) {
        const to = layerOf(resolve(dirname(file), match[1] ?? ''));
        if (to !== from && !MAY_IMPORT[from]?.includes(to)) wrong.push(`${relative(SRC, file)} imports ${match[1]} (${from} -> ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
