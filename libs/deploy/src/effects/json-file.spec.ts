import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { jsonFile } from './json-file';

describe('jsonFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'json-file-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes into a state folder that does not exist yet (Kubernetes: nothing else makes it), readable by its user only', () => {
    const file = jsonFile(join(dir, 'state', 'canary.json'), z.object({ weight: z.number() }));
    file.write({ weight: 25 });
    expect(file.read()).toEqual({ weight: 25 });
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'state'))).toEqual(['canary.json']);
  });

  it('reads a missing or invalid document as undefined', () => {
    const file = jsonFile(join(dir, 'canary.json'), z.object({ weight: z.number() }));
    expect(file.read()).toBeUndefined();
    file.write({ weight: 5 });
    expect(jsonFile(file.where, z.object({ weight: z.string() })).read()).toBeUndefined();
  });
});
