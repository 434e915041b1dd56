import { DEFAULT_DEPLOYMENT_SPEC, type DeploymentSpec } from './deployment-spec';
import { specWarnings } from './spec-warnings';

const withColorPortsAddress = (address: string): DeploymentSpec => ({
  ...DEFAULT_DEPLOYMENT_SPEC,
  compose: { ...DEFAULT_DEPLOYMENT_SPEC.compose, colorPortsAddress: address },
});

describe('specWarnings', () => {
  it('says nothing of the default spec, nor of any loopback address for the color ports', () => {
    expect(specWarnings(DEFAULT_DEPLOYMENT_SPEC)).toEqual([]);
    for (const address of ['127.0.0.1', '127.0.1.1', '::1']) expect(specWarnings(withColorPortsAddress(address))).toEqual([]);
  });

  it("warns that color ports published beyond loopback expose the colors' internal routes", () => {
    for (const address of ['0.0.0.0', '10.0.0.5', '::', '2001:db8::1']) {
      const warnings = specWarnings(withColorPortsAddress(address));
      expect(warnings).toEqual([expect.stringContaining(`compose.colorPortsAddress is ${address}`)]);
      expect(warnings[0]).toContain('/admin/predictions');
    }
  });
});
