import { type CpuProfile, summariseProfile } from './profile-top';

const frame = (functionName: string, url = 'file:///app/node_modules/fastify/lib/route.js', lineNumber = 9) => ({
  functionName,
  url,
  lineNumber,
});

/** root -> handler -> [parse, write]; plus idle and a module load. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', '', -1), children: [2, 5, 6] },
    { id: 2, callFrame: frame('handler', 'file:///w/dist/apps/model-service/src/predict/predict.fast-path.js', 40), children: [3, 4] },
    { id: 3, callFrame: frame('parse') },
    { id: 4, callFrame: frame('writev', '', -1) },
    { id: 5, callFrame: frame('(idle)', '', -1) },
    { id: 6, callFrame: frame('Module._load', 'node:internal/modules/cjs/loader', 1000) },
  ],
  samples: [3, 3, 4, 2, 5, 5, 6],
  timeDeltas: [1000, 1000, 2000, 1000, 5000, 5000, 3000],
};

describe('summariseProfile', () => {
  it('ranks functions by self and total time, without idle and module loading', () => {
    const summary = summariseProfile(profile, { top: 3, all: false });
    expect(summary.countedMs).toBe(5);
    expect(summary.self.map(({ name, percent }) => [name, percent])).toEqual([
      ['parse fastify/lib/route.js:10', 40],
      ['writev ', 40],
      ['handler dist/apps/model-service/src/predict/predict.fast-path.js:41', 20],
    ]);
    expect(summary.total[0]).toEqual({ name: 'handler dist/apps/model-service/src/predict/predict.fast-path.js:41', percent: 100, ms: 5 });
  });

  it('counts everything with all', () => {
    expect(summariseProfile(profile, { top: 1, all: true })).toMatchObject({ countedMs: 18, self: [{ name: '(idle) ', percent: 55.6 }] });
  });
});
