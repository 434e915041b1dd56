import { ROUTER_CONNECTIONS } from '@mlbg/contract';
import { DeploymentSpec } from '../../spec/deployment-spec';
import { renderNginxConf } from './nginx';
import { localNginxSite } from './nginx-site';

const site = (socketDir: string) => localNginxSite(DeploymentSpec.parse({}), { socketDir, port: 18081 });

describe('the weighted live route in nginx.conf', () => {
  it('has one upstream per slot (4 slots here, 25% each), each over the replicas of the link, chosen per request by its request id without sticky settings', () => {
    const conf = renderNginxConf(DeploymentSpec.parse({ canary: { slots: 4, steps: [25, 50, 100] } }), site('/run'));
    expect(conf).toContain('split_clients "$request_id" $mlbg_slot {\n    25% 00;\n    25% 01;\n    25% 02;\n    * 03;\n  }');
    for (const slot of [0, 1, 2, 3]) {
      expect(conf).toContain(
        [
          `  upstream mlbg_live-slot-0${slot} {`,
          `    server unix:/run/live-slot-0${slot}/r1.sock max_fails=0;`,
          `    server unix:/run/live-slot-0${slot}/r2.sock max_fails=0;`,
          `    keepalive ${ROUTER_CONNECTIONS.ROUTER_KEEPALIVE_CONNECTIONS};`,
        ].join('\n'),
      );
    }
    expect(conf).not.toContain('hash ');
    expect(conf).toContain('proxy_pass http://mlbg_live-slot-$mlbg_slot;');
  });

  it('picks the slot by a header (a request without it by its request id) and sends allow-listed values through the canary link', () => {
    const spec = DeploymentSpec.parse({ canary: { sticky: { header: 'X-User-Id', canaryValues: ['tester-1'] } } });
    const conf = renderNginxConf(spec, site('/run'));
    expect(conf).toContain('map $http_x_user_id $mlbg_sticky_key {\n    "" $request_id;\n    default $http_x_user_id;\n  }');
    expect(conf).toContain('split_clients "$mlbg_sticky_key" $mlbg_slot {');
    expect(conf).toContain('map $http_x_user_id $mlbg_live_link {\n    default live-slot-$mlbg_slot;\n    "tester-1" canary;\n  }');
    expect(conf).toContain(
      `upstream mlbg_canary {\n    server unix:/run/canary/r1.sock max_fails=0;\n    server unix:/run/canary/r2.sock max_fails=0;\n    keepalive ${ROUTER_CONNECTIONS.ROUTER_KEEPALIVE_CONNECTIONS};`,
    );
    expect(conf).toContain('set $mlbg_socket $mlbg_live_link;');
    expect(conf).toContain('proxy_pass http://mlbg_$mlbg_live_link;');
  });

  it('reads a cookie when the spec names one', () => {
    const conf = renderNginxConf(DeploymentSpec.parse({ canary: { sticky: { cookie: 'uid' } } }), site('/run'));
    expect(conf).toContain('map $cookie_uid $mlbg_sticky_key {');
    expect(conf).toContain('proxy_pass http://mlbg_live-slot-$mlbg_slot;');
  });
});
