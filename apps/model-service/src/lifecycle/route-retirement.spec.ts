import { ROUTER_CONNECTIONS } from '@mlbg/contract';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouteRetirement } from './route-retirement';

const HEADER = ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER;

describe('createRouteRetirement (real symlinks to color folders in a temporary socket folder)', () => {
  let folder: string;
  let time = 0;
  const now = () => time;
  const point = (link: string, target: string) => {
    symlinkSync(target, join(folder, `${link}.next`));
    renameSync(join(folder, `${link}.next`), join(folder, link));
  };
  const replica = (color: string, number: number) => createRouteRetirement({ socketPath: join(folder, color, `r${number}.sock`), now });
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'mlbg-retire-'));
    for (const color of ['blue', 'green']) mkdirSync(join(folder, color));
    time = 0;
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it("keeps a connection while its link points at the replica's color folder, and retires it within the check interval after the link moves", () => {
    point('live-slot-07', 'blue');
    const retired = replica('blue', 1);
    expect(retired({ [HEADER]: 'live-slot-07' })).toBe(false);
    point('live-slot-07', 'green');
    time += ROUTER_CONNECTIONS.LINK_CHECK_INTERVAL_MS - 1;
    expect(retired({ [HEADER]: 'live-slot-07' })).toBe(false); // still the cached view
    time += 1;
    expect(retired({ [HEADER]: 'live-slot-07' })).toBe(true);
    expect(replica('green', 2)({ [HEADER]: 'live-slot-07' })).toBe(false);
  });

  it('judges every replica of a color alike, one link name at a time, and retires through a link that is gone', () => {
    point('live-slot-03', 'green');
    point('live-slot-04', 'blue');
    for (const number of [1, 2, 3]) {
      const retired = replica('blue', number);
      expect(retired({ [HEADER]: 'live-slot-03' })).toBe(true);
      expect(retired({ [HEADER]: 'live-slot-04' })).toBe(false);
      expect(retired({ [HEADER]: 'missing' })).toBe(true);
    }
  });

  it('never retires requests without the header, with a header that is not a link name, or naming its own color folder', () => {
    point('live', 'blue');
    const retired = replica('blue', 1);
    for (const value of [undefined, '', '../live', '/tmp/live', 'live/x', 'live-slot-*', 'blue']) {
      expect(retired(value === undefined ? {} : { [HEADER]: value })).toBe(false);
    }
    expect(createRouteRetirement({ socketPath: undefined })({ [HEADER]: 'live' })).toBe(false);
  });
});
