import { join } from 'node:path';
import { parse } from 'yaml';
import { describeWithBinary, findBinary, run } from '../../testing/real-tools';

const DOCKER_COMPOSE = findBinary('docker-compose');
const WORKSPACE_ROOT = join(__dirname, '../../../../..');
const FILES = ['docker-compose.yml', 'docker-compose.blue.yml', 'docker-compose.green.yml'];

/** The parts of `docker-compose config` output these tests read. */
interface ComposeService {
  container_name: string;
  /** None on a color's replicas after the first (reached through their sockets only). */
  ports?: ({ published: number; target: number } | string)[];
  /** None on the shadow relay, which has `network_mode: none`. */
  networks?: Record<string, unknown>;
  network_mode?: string;
  read_only?: boolean;
  restart?: string;
  volumes: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  networks: Record<string, unknown>;
  volumes: Record<string, unknown>;
}

describeWithBinary(DOCKER_COMPOSE, 'docker-compose')('real docker-compose config on the committed files', () => {
  let config: ComposeConfig;
  beforeAll(() => {
    const result = run(DOCKER_COMPOSE as string, [...FILES.flatMap((file) => ['-f', file]), 'config'], { cwd: WORKSPACE_ROOT });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    config = parse(result.stdout) as ComposeConfig;
  });

  it("keeps the original design's containers, network and ports (a service per replica, the first on the color's port)", () => {
    const { services } = config;
    expect(Object.keys(services).sort()).toEqual([
      'ml-service-blue',
      'ml-service-blue-2',
      'ml-service-green',
      'ml-service-green-2',
      'nginx',
      'shadow-relay',
    ]);
    expect(services['ml-service-blue'].container_name).toBe('ml-service-blue');
    expect(services['ml-service-green'].container_name).toBe('ml-service-green');
    expect(services.nginx.container_name).toBe('ml-nginx');
    expect(config.networks['ml-network']).toEqual({ name: 'ml-network', driver: 'bridge' });
    // docker-compose v1 prints a port with a host address as a string (`127.0.0.1:8081:8081/tcp`), others as objects.
    const ports = (service: string) =>
      (services[service].ports ?? []).map((p) => (typeof p === 'string' ? p.replace(/\/tcp$/, '') : `${p.published}:${p.target}`));
    // The colors on loopback only (the spec's compose.colorPortsAddress); nginx on every interface.
    expect(ports('ml-service-blue')).toEqual(['127.0.0.1:8081:8081']);
    expect(ports('ml-service-green')).toEqual(['127.0.0.1:8082:8082']);
    expect([ports('ml-service-blue-2'), ports('ml-service-green-2')]).toEqual([[], []]);
    expect(ports('nginx')).toEqual(['80:80']);
    const { 'shadow-relay': relay, ...networked } = services;
    for (const service of Object.values(networked)) expect(Object.keys(service.networks ?? {})).toEqual(['ml-network']);
    // The shadow relay reaches the colors through the socket volume only: no network, no port, nothing writable but /tmp.
    expect(relay).toMatchObject({ container_name: 'ml-shadow-relay', network_mode: 'none', read_only: true, restart: 'unless-stopped' });
    expect([relay?.ports, relay?.networks]).toEqual([undefined, undefined]);
  });

  it('health-checks every replica of both colors and starts nginx only once all are healthy', () => {
    for (const [service, port] of [
      ['ml-service-blue', 8081],
      ['ml-service-blue-2', 8081],
      ['ml-service-green', 8082],
      ['ml-service-green-2', 8082],
    ] as const) {
      expect(config.services[service].healthcheck?.test).toEqual([
        'CMD',
        'node',
        '-e',
        `fetch('http://127.0.0.1:${port}/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))`,
      ]);
    }
    expect(config.services.nginx.depends_on).toEqual({
      'ml-service-blue': { condition: 'service_healthy' },
      'ml-service-blue-2': { condition: 'service_healthy' },
      'ml-service-green': { condition: 'service_healthy' },
      'ml-service-green-2': { condition: 'service_healthy' },
    });
  });

  it('shares one socket volume and mounts the committed nginx config', () => {
    for (const service of Object.values(config.services)) expect(service.volumes).toContain('ml-sockets:/run/mlbg:rw');
    expect(config.services.nginx.volumes).toContain(`${WORKSPACE_ROOT}/deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro`);
    expect(config.volumes).toEqual({ 'ml-sockets': {} });
  });
});
