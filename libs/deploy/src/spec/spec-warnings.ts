import { BlockList, isIPv6 } from 'node:net';
import type { DeploymentSpec } from './deployment-spec';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * What a valid spec does that its owner may not mean: each a sentence saying what and what to do.
 * `deploy:generate` prints them; nothing is refused (publishing a color's port on purpose is allowed).
 */
export function specWarnings(spec: DeploymentSpec): string[] {
  const warnings: string[] = [];
  const address = spec.compose.colorPortsAddress;
  if (!LOOPBACK.check(address, isIPv6(address) ? 'ipv6' : 'ipv4'))
    warnings.push(
      `compose.colorPortsAddress is ${address}: each color's port is published beyond this host, where anyone who reaches it ` +
        "gets the color's internal routes (/admin/predictions: the last predictions' inputs and outputs; /metrics) and skips " +
        "nginx's rate limit. Keep it 127.0.0.1 unless a firewall in front of this host allows only trusted clients.",
    );
  return warnings;
}
