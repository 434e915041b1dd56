import { DeploymentSpec } from '../../spec/deployment-spec';
import { shadowOnAction } from './shadow';

describe('shadowOnAction (what `shadow on` asks for, from the CLI and the dashboard)', () => {
  it("takes the spec's percent and queue size unless the request gives its own", () => {
    const spec = DeploymentSpec.parse({ shadow: { percent: 25, queueSize: 50 } });
    expect(shadowOnAction(spec, {})).toEqual({ kind: 'on', percent: 25, queueSize: 50 });
    expect(shadowOnAction(spec, { percent: 10 })).toEqual({ kind: 'on', percent: 10, queueSize: 50 });
  });

  it('refuses when the spec rendered nginx without the mirror, and says how to get it', () => {
    const spec = DeploymentSpec.parse({ shadow: { mirror: false } });
    expect(() => shadowOnAction(spec, {})).toThrow(
      expect.objectContaining({ code: 'SHADOW_FAILED', hint: expect.stringContaining('shadow.mirror to true') }),
    );
  });
});
