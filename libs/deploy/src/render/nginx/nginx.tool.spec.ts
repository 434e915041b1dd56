import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEPLOYMENT_SPEC, DeploymentSpec } from '../../spec/deployment-spec';
import { describeWithBinary, findBinary, run } from '../../testing/real-tools';
import { renderNginxConf } from './nginx';
import { LOCAL_NGINX_FILES, composeNginxSite, localNginxSite, type NginxSite } from './nginx-site';

const NGINX = findBinary('nginx');
const RUNUSER = findBinary('runuser');
const spec = DEFAULT_DEPLOYMENT_SPEC;

describeWithBinary(NGINX, 'nginx')('real nginx -t', () => {
  let prefix: string;
  beforeEach(() => {
    prefix = mkdtempSync(join(tmpdir(), 'mlbg-nginx-t-'));
    chmodSync(prefix, 0o755);
  });
  afterEach(() => rmSync(prefix, { recursive: true, force: true }));

  function check(site: NginxSite, asUser?: string) {
    writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(spec, site));
    const args = ['-t', '-p', `${prefix}/`, '-c', 'nginx.conf'];
    const result = asUser ? run(RUNUSER as string, ['-u', asUser, '--', NGINX as string, ...args]) : run(NGINX as string, args);
    expect({ status: result.status, output: result.stderr }).toMatchObject({
      status: 0,
      output: expect.stringContaining('test is successful'),
    });
  }

  it('accepts the local config (sockets need not exist)', () => {
    check(localNginxSite(spec, { socketDir: join(prefix, 'run'), port: 18080 }));
  });

  const asRoot = userInfo().uid === 0 && RUNUSER ? it : it.skip;
  asRoot('accepts the local config for a user who is not root', () => {
    chownSync(prefix, 65534, 65534);
    check(localNginxSite(spec, { socketDir: join(prefix, 'run'), port: 18080 }), 'nobody');
  });

  it("accepts the Compose config's directives (with the file paths moved under the prefix)", () => {
    check({ ...composeNginxSite(spec), files: LOCAL_NGINX_FILES, listen: { host: '127.0.0.1', port: 18080 } });
  });
});

describeWithBinary(NGINX, 'nginx')('real nginx -t on the sticky config', () => {
  const site = (socketDir: string) => localNginxSite(DeploymentSpec.parse({}), { socketDir, port: 18081 });

  it('accepts the sticky split, the allow-list map and the upstream chosen by a variable', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'mlbg-nginx-sticky-'));
    try {
      chmodSync(prefix, 0o755);
      const spec = DeploymentSpec.parse({ canary: { sticky: { header: 'X-User-Id', canaryValues: ['tester-1'] } } });
      writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(spec, site(join(prefix, 'run'))));
      const result = run(NGINX as string, ['-t', '-p', `${prefix}/`, '-c', 'nginx.conf']);
      expect({ status: result.status, output: result.stderr }).toMatchObject({
        status: 0,
        output: expect.stringContaining('test is successful'),
      });
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
