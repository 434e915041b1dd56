import type { Color } from '@mlbg/contract';
import type { ServedTraffic } from '../../gates/analysis/served';
import { answer, fakeClock } from '../../testing/fakes';
import { ACCESS_LOG_FLUSH_MS, localMeter } from './canary-meter';

/** An access log that grows only when the test says nginx served something. */
function growingLog() {
  let text = '';
  return {
    serve(color: Color, count: number) {
      for (let index = 0; index < count; index += 1)
        text += `${JSON.stringify({ status: 200, request_time: 0.002, upstream_addr: 'unix:/run/live-slot-00/r1.sock', color })}\n`;
    },
    read: async (from: number | 'end') =>
      from === 'end' ? { text: '', next: text.length } : { text: text.slice(from), next: text.length },
  };
}

describe('localMeter (nginx access log windows)', () => {
  const requests = (served: ServedTraffic) => (served.kind === 'requests' ? served.requests.length : -1);

  it('starts every window where the log ends after its move, so what was served between two windows (at the weight before) is in neither', async () => {
    const clock = fakeClock();
    const log = growingLog();
    const meter = localMeter(
      { slots: 20, clock, readAccessLog: log.read, metrics: async () => answer(503, {}) },
      { stable: 'blue', canary: 'green' },
    );
    log.serve('blue', 50); // before the canary began
    await meter.begin(25);
    log.serve('green', 25);
    log.serve('blue', 75);
    expect(await meter.counted()).toEqual({ blue: 75, green: 25 });
    const first = await meter.end();
    // Between the windows (the reads of records and metrics, the move to 50 %): still at 25 %.
    log.serve('green', 10);
    log.serve('blue', 30);
    await meter.begin(50);
    log.serve('green', 40);
    log.serve('blue', 40);
    const second = await meter.end();
    expect([first, second].map((window) => [requests(window.served.green), requests(window.served.blue)])).toEqual([
      [25, 75],
      [40, 40],
    ]);
    // Each window waited for nginx's buffered log to be flushed before it started, and before it ended.
    expect(clock.slept).toEqual([ACCESS_LOG_FLUSH_MS, ACCESS_LOG_FLUSH_MS, ACCESS_LOG_FLUSH_MS, ACCESS_LOG_FLUSH_MS]);
  });
});
