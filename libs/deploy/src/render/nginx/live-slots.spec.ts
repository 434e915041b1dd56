import { ROUTER_CONNECTIONS } from '@mlbg/contract';
import { DeploymentSpec } from '../../spec/deployment-spec';
import { renderNginxConf } from './nginx';
import { localNginxSite } from './nginx-site';

const site = (socketDir: string) => localNginxSite(DeploymentSpec.parse({}), { socketDir, port: 18081 });

describe('the weighted live route in nginx.conf', () => {
  it('has one server per slot (4 slots here) and round-robins over them without sticky settings', () => {
    const conf = renderNginxConf(DeploymentSpec.parse({ canary: { slots: 4, steps: [25, 50, 100] } }), site('/run'));
    expect(conf).toContain(
      [
        '  upstream mlbg_live {',
        ...[0, 1, 2, 3].map((slot) => `    server unix:/run/live-slot-0${slot}.sock max_fails=0;`),
        `    keepalive ${ROUTER_CONNECTIONS.ROUTER_KEEPALIVE_CONNECTIONS};`,
      ].join('\n'),
    );
    expect(conf).not.toContain('hash ');
    expect(conf).toContain('proxy_pass http://mlbg_live;');
  });

  it('hashes a header consistently (a request without it by its request id) and sends allow-listed values to canary.sock', () => {
    const spec = DeploymentSpec.parse({ canary: { sticky: { header: 'X-User-Id', canaryValues: ['tester-1'] } } });
    const conf = renderNginxConf(spec, site('/run'));
    expect(conf).toContain('map $http_x_user_id $mlbg_sticky_key {\n    "" $request_id;\n    default $http_x_user_id;\n  }');
    expect(conf).toContain('  upstream mlbg_live {\n    hash $mlbg_sticky_key consistent;\n');
    expect(conf).toContain('map $http_x_user_id $mlbg_live_upstream {\n    default mlbg_live;\n    "tester-1" mlbg_canary;\n  }');
    expect(conf).toContain(
      `upstream mlbg_canary {\n    server unix:/run/canary.sock max_fails=0;\n    keepalive ${ROUTER_CONNECTIONS.ROUTER_KEEPALIVE_CONNECTIONS};`,
    );
    expect(conf).toContain('proxy_pass http://$mlbg_live_upstream;');
  });

  it('reads a cookie when the spec names one', () => {
    const conf = renderNginxConf(DeploymentSpec.parse({ canary: { sticky: { cookie: 'uid' } } }), site('/run'));
    expect(conf).toContain('map $cookie_uid $mlbg_sticky_key {');
    expect(conf).toContain('proxy_pass http://mlbg_live;');
  });
});
