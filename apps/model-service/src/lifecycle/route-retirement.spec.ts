import { ROUTER_CONNECTIONS } from '@mlbg/contract';
import { mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouteRetirement } from './route-retirement';

const HEADER = ROUTER_CONNECTIONS.ROUTE_SOCKET_HEADER;

describe('createRouteRetirement (real symlinks in a temporary socket folder)', () => {
  let folder: string;
  let time = 0;
  const now = () => time;
  const point = (link: string, target: string) => {
    symlinkSync(target, join(folder, `${link}.next`));
    renameSync(join(folder, `${link}.next`), join(folder, link));
  };
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'mlbg-retire-'));
    time = 0;
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('keeps a connection while its link points at this color, and retires it within the check interval after the link moves', () => {
    point('live.sock', 'blue.sock');
    const retired = createRouteRetirement({ socketPath: join(folder, 'blue.sock'), now });
    expect(retired({ [HEADER]: 'live.sock' })).toBe(false);
    point('live.sock', 'green.sock');
    time += ROUTER_CONNECTIONS.LINK_CHECK_INTERVAL_MS - 1;
    expect(retired({ [HEADER]: 'live.sock' })).toBe(false); // still the cached view
    time += 1;
    expect(retired({ [HEADER]: 'live.sock' })).toBe(true);
    const green = createRouteRetirement({ socketPath: join(folder, 'green.sock'), now });
    expect(green({ [HEADER]: 'live.sock' })).toBe(false);
  });

  it('retires connections through a canary slot link or a link that is gone, one name at a time', () => {
    point('slot-03.sock', 'green.sock');
    point('slot-04.sock', 'blue.sock');
    const retired = createRouteRetirement({ socketPath: join(folder, 'blue.sock'), now });
    expect(retired({ [HEADER]: 'slot-03.sock' })).toBe(true);
    expect(retired({ [HEADER]: 'slot-04.sock' })).toBe(false);
    expect(retired({ [HEADER]: 'missing.sock' })).toBe(true);
  });

  it('keeps a connection named by a slot pattern only while every matching link points at this color', () => {
    for (const slot of ['live-slot-00.sock', 'live-slot-01.sock', 'live-slot-02.sock']) point(slot, 'blue.sock');
    point('preview.sock', 'green.sock'); // not of the pattern
    const blue = createRouteRetirement({ socketPath: join(folder, 'blue.sock'), now });
    const green = createRouteRetirement({ socketPath: join(folder, 'green.sock'), now });
    expect(blue({ [HEADER]: 'live-slot-*.sock' })).toBe(false);
    expect(green({ [HEADER]: 'live-slot-*.sock' })).toBe(true);
    point('live-slot-01.sock', 'green.sock'); // a canary step: both colors serve live now
    time += ROUTER_CONNECTIONS.LINK_CHECK_INTERVAL_MS;
    expect(blue({ [HEADER]: 'live-slot-*.sock' })).toBe(true);
    expect(green({ [HEADER]: 'live-slot-*.sock' })).toBe(true);
    expect(blue({ [HEADER]: 'nothing-*.sock' })).toBe(true); // no link of the pattern: nothing routes here
  });

  it('never retires requests without the header, with a header that is not a link name, or naming its own socket', () => {
    const retired = createRouteRetirement({ socketPath: join(folder, 'blue.sock'), now });
    for (const value of [undefined, '', '../live.sock', '/tmp/live.sock', 'live', 'blue.sock', '*/x.sock', 'a**.sock']) {
      expect(retired(value === undefined ? {} : { [HEADER]: value })).toBe(false);
    }
    expect(createRouteRetirement({ socketPath: undefined })({ [HEADER]: 'live.sock' })).toBe(false);
  });
});
