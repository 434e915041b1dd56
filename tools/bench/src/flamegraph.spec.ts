import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foldedText, foldStacks, renderFlameGraphSvg } from './flamegraph';
import type { CpuProfile } from './profile-top';

const frame = (functionName: string, url = 'file:///app/node_modules/fastify/lib/route.js', lineNumber = 9) => ({
  functionName,
  url,
  lineNumber,
});

/** root -> handler -> [parse, writev]; plus idle. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', '', -1), children: [2, 5] },
    { id: 2, callFrame: frame('handler', 'file:///w/dist/apps/model-service/src/main.js', 40), children: [3, 4] },
    { id: 3, callFrame: frame('parse') },
    { id: 4, callFrame: frame('writev', '', -1) },
    { id: 5, callFrame: frame('(idle)', '', -1) },
  ],
  samples: [3, 3, 4, 2, 5],
  timeDeltas: [1000, 1000, 2000, 1000, 5000],
};

/** The frames of an SVG flame graph: tooltip and width. */
function frames(svg: string): { title: string; width: number }[] {
  return [...svg.matchAll(/<g><title>([^<]*)<\/title><rect x="[\d.]+" y="\d+" width="([\d.]+)"/g)].map(([, title, width]) => ({
    title,
    width: Number(width),
  }));
}

describe('flame graphs of V8 CPU profiles', () => {
  it('folds the samples into stacks, outermost first, without idle time', () => {
    expect(foldedText(foldStacks(profile, { all: false }))).toBe(
      [
        'handler dist/apps/model-service/src/main.js:41 1000',
        'handler dist/apps/model-service/src/main.js:41;parse fastify/lib/route.js:10 2000',
        'handler dist/apps/model-service/src/main.js:41;writev  2000',
        '',
      ].join('\n'),
    );
    expect(foldStacks(profile, { all: true }).get('(idle) ')).toBe(5000);
  });

  it('draws each frame as wide as its share of the time', () => {
    const svg = renderFlameGraphSvg(foldStacks(profile, { all: false }), 'a <test> & more');
    expect(svg).toContain('a &#60;test&#62; &#38; more');
    expect(frames(svg)).toEqual([
      { title: 'all (5.0 ms, 100.0%)', width: 1200 },
      { title: 'handler dist/apps/model-service/src/main.js:41 (5.0 ms, 100.0%)', width: 1200 },
      { title: 'parse fastify/lib/route.js:10 (2.0 ms, 40.0%)', width: 480 },
      { title: 'writev  (2.0 ms, 40.0%)', width: 480 },
    ]);
  });

  it('shows where a real profile spent its time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-flamegraph-'));
    try {
      // A program that spends its time in busyInner, called by busyOuter.
      const program = `function busyInner(){let x=0;for(let i=0;i<2e5;i++)x+=Math.sqrt(i);return x}
        function busyOuter(){let s=0;const end=Date.now()+400;while(Date.now()<end)s+=busyInner();return s}
        busyOuter();`;
      execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', program]);
      const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile')) as string;
      const folded = foldStacks(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, { all: false });
      const busy = [...folded.entries()]
        .filter(([stack]) => /busyOuter [^;]*;busyInner /.test(stack))
        .reduce((sum, [, micros]) => sum + micros, 0);
      const total = [...folded.values()].reduce((sum, micros) => sum + micros, 0);
      expect(busy / total).toBeGreaterThan(0.5);
      const inner = frames(renderFlameGraphSvg(folded, file)).find((item) => item.title.startsWith('busyInner '));
      expect(inner?.width).toBeGreaterThan(600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
