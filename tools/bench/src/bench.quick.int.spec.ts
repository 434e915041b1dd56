import { runBench } from './bench';
import { parseBenchArgs } from './options';

// The quick bench in CI: real stack, real nginx, real baseline, autocannon. Numbers are printed,
// never asserted (speed is proven by the benchmark's report, not by timed tests): this only checks
// that every request of every case, and of the switches under load, got a 2xx.
jest.setTimeout(150_000);

describe('nx run bench:run --quick', () => {
  it('gets a 2xx for every request: each endpoint direct and through nginx, service and baseline, and while switching', async () => {
    const parsed = parseBenchArgs(['--quick']);
    if (!parsed.ok) throw new Error(parsed.message);
    const lines: string[] = [];
    const result = await runBench(parsed.options, { progress: (line) => lines.push(line) });
    console.log(lines.join('\n'));

    expect(result.failures).toEqual([]);
    expect(result.allSucceeded).toBe(true);
    // Four endpoints and the classifier, each direct and through nginx.
    expect(result.cases).toHaveLength(10);
    expect(result.cases.filter((item) => item.endpoint === 'classify-100').map((item) => item.via)).toEqual(['direct', 'nginx']);
    for (const item of result.cases) {
      for (const side of [item.service, item.baseline]) {
        expect(
          side?.runs.every((run) => run.requests > 0 && run.non2xx === 0 && run.errors === 0 && run.timeouts === 0 && run.resets === 0),
        ).toBe(true);
      }
    }
    expect(result.switchUnderLoad?.records.every((record) => record.ok)).toBe(true);
    expect(result.switchUnderLoad?.failedRequests).toBe(0);
  });
});
