import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  COMPOSE_FILES,
  composeConfig,
  findCompose,
  networksOf,
  portsOf,
  readComposeFile,
  volumesOf,
  type ComposeFile,
  type ComposeService,
} from './testing/compose';
import { envOf, execForm, parseDockerfile } from './testing/dockerfile';
import { dockerignoreMatcher } from './testing/dockerignore';
import { describeWhen, readWorkspaceFile, WORKSPACE_ROOT } from './testing/workspace';

const COLORS = ['blue', 'green'] as const;
type Color = (typeof COLORS)[number];
const SERVICE = { blue: 'ml-service-blue', green: 'ml-service-green' } as const;
/** The original design: blue serves v1.0.0 on 8081, green v1.1.0 on 8082, nginx on 80. */
const ORIGINAL = { blue: { port: 8081, version: 'v1.0.0' }, green: { port: 8082, version: 'v1.1.0' } } as const;

const dockerfile = parseDockerfile(readWorkspaceFile('Dockerfile'));
const runtime = dockerfile.stages[dockerfile.stages.length - 1];
const colorService = (color: Color) => readComposeFile(`docker-compose.${color}.yml`).services[SERVICE[color]];
const script = readWorkspaceFile('scripts/deploy_compose.sh');

describe('the compose files and the image agree', () => {
  it.each(COLORS)(
    '%s runs a model the image ships, of the version the original design gives it, unless its own variable names another',
    (color) => {
      // `${BLUE_MODEL:-/app/models/v1.0.0/model.onnx}`: a deploy can keep the live model on the idle color.
      const setting = /^\$\{([A-Z]+)_MODEL:-([^}]+)\}$/.exec(colorService(color).environment?.['MODEL_PATH'] ?? '');
      expect(setting?.[1]).toBe(color.toUpperCase());
      const modelPath = setting?.[2] ?? '';
      const workdir = runtime.instructions
        .filter((i) => i.keyword === 'WORKDIR')
        .map((i) => i.args)
        .pop();
      expect(modelPath.startsWith(`${workdir}/models/`)).toBe(true);
      const inRepo = posix.relative(workdir as string, modelPath);
      expect(existsSync(join(WORKSPACE_ROOT, inRepo))).toBe(true);
      expect(dockerignoreMatcher(readWorkspaceFile('.dockerignore'))(inRepo)).toBe(false);
      expect(runtime.instructions.some((i) => i.keyword === 'COPY' && i.args === 'models ./models')).toBe(true);
      const metadata = JSON.parse(readFileSync(join(WORKSPACE_ROOT, posix.dirname(inRepo), 'model.json'), 'utf8')) as {
        metadata: { model_version: string };
      };
      expect(metadata.metadata.model_version).toBe(ORIGINAL[color].version);
    },
  );

  it.each(COLORS)('%s listens where Compose publishes it, and its healthcheck asks that port', (color) => {
    const service = colorService(color);
    const port = ORIGINAL[color].port;
    expect(service.environment).toMatchObject({ PORT: String(port), HOST: '0.0.0.0', COLOR: color });
    // On loopback: the server itself reaches it (the original `curl localhost:8081/health`), nobody else.
    expect(portsOf(service)).toEqual([`127.0.0.1:${port}:${port}`]);
    expect(service.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}/health`);
    // The image's own healthcheck follows PORT, so it is right for both colors.
    const imageCheck = execForm(runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '') ?? [];
    expect(imageCheck[2]).toContain('process.env.PORT');
    expect(Object.fromEntries(envOf(runtime.instructions))['PORT']).toBe(String(ORIGINAL.blue.port));
  });

  it.each(COLORS)(
    "%s puts each replica's socket in its color's folder of the shared volume, in the folder the image gives the node user",
    (color) => {
      // Each color file also adds to the base file's nginx (and blue's to the shadow relay, which runs blue's image).
      const replicas = Object.entries(readComposeFile(`docker-compose.${color}.yml`).services).filter(
        ([name]) => name !== 'nginx' && name !== 'shadow-relay',
      );
      expect(replicas.map(([name]) => name)).toEqual([SERVICE[color], `${SERVICE[color]}-2`]);
      const socketDir = '/run/mlbg';
      for (const [index, [, service]] of replicas.entries()) {
        expect(service.environment?.['SOCKET_PATH']).toBe(`${socketDir}/${color}/r${index + 1}.sock`);
        expect(volumesOf(service)).toEqual([`ml-sockets:${socketDir}`]);
      }
      expect(runtime.instructions.some((i) => i.keyword === 'RUN' && i.args.includes(`chown node:node ${socketDir}`))).toBe(true);
      expect(volumesOf(readComposeFile('docker-compose.yml').services['nginx'])).toContain(`ml-sockets:${socketDir}`);
    },
  );

  it.each(COLORS)('%s builds this Dockerfile, and a deploy can set its image through its own variable', (color) => {
    const service = colorService(color);
    expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(service.image).toBe(`\${${color.toUpperCase()}_IMAGE:-ml-model-service:${color}}`);
  });
});

describe('scripts/deploy_compose.sh and the compose files agree', () => {
  const base = readComposeFile('docker-compose.yml');

  it('passes the three files, in the original order', () => {
    expect(script).toContain(`readonly COMPOSE_FILES=(${COMPOSE_FILES.map((file) => `-f ${file}`).join(' ')})`);
  });

  it("finds a color's service by the prefix the color files use (the live color's image is the deploy CLI's)", () => {
    for (const color of COLORS)
      expect(Object.keys(readComposeFile(`docker-compose.${color}.yml`).services)).toContain(`ml-service-${color}`);
    expect(script).toContain('readonly COLOR_SERVICE_PREFIX=ml-service-');
  });

  it('asks for the router service the base file defines, and sets the image variables the color files read', () => {
    // Everything else (services, sockets, routes) is the deploy CLI's, from the same spec as the files.
    expect(script).toContain('readonly ROUTER_SERVICE=nginx');
    expect(Object.keys(base.services)).toEqual(['nginx', 'shadow-relay']);
    for (const color of COLORS) {
      const variable = `${color.toUpperCase()}_IMAGE`;
      expect(colorService(color).image).toMatch(new RegExp(`^\\$\\{${variable}:-`));
      expect(script).toContain(`set_env_var ${variable} "$IMAGE"`);
    }
  });
});

const compose = findCompose();
describeWhen(compose !== undefined, '`docker-compose` or `docker compose`')(
  'real `docker-compose ... config` on the committed files',
  () => {
    let config: ComposeFile;
    beforeAll(() => {
      config = composeConfig(compose as string[]);
    });

    it('has the stack of the original README: two colors (of two replicas each, the first on the original port) and nginx on one network', () => {
      expect(Object.keys(config.services).sort()).toEqual([
        'ml-service-blue',
        'ml-service-blue-2',
        'ml-service-green',
        'ml-service-green-2',
        'nginx',
        'shadow-relay',
      ]);
      // The shadow relay (deploy:shadow): no port and no network, only the socket volume.
      const { 'shadow-relay': relay, ...stack } = config.services;
      expect([
        relay?.container_name,
        portsOf(relay as ComposeService),
        networksOf(relay as ComposeService),
        volumesOf(relay as ComposeService),
      ]).toEqual(['ml-shadow-relay', [], [], ['ml-sockets:/run/mlbg']]);
      expect(
        Object.fromEntries(
          Object.entries(stack).map(([name, service]) => [name, [service.container_name, portsOf(service), networksOf(service)]]),
        ),
      ).toEqual({
        'ml-service-blue': ['ml-service-blue', ['127.0.0.1:8081:8081'], ['ml-network']],
        'ml-service-blue-2': ['ml-service-blue-2', [], ['ml-network']],
        'ml-service-green': ['ml-service-green', ['127.0.0.1:8082:8082'], ['ml-network']],
        'ml-service-green-2': ['ml-service-green-2', [], ['ml-network']],
        nginx: ['ml-nginx', ['80:80'], ['ml-network']],
      });
      for (const name of Object.keys(stack).filter((name) => name !== 'nginx'))
        expect(config.services[name]?.healthcheck?.test.join(' ')).toContain('/health');
      expect(config.services['nginx'].depends_on).toMatchObject({
        'ml-service-blue': { condition: 'service_healthy' },
        'ml-service-blue-2': { condition: 'service_healthy' },
        'ml-service-green': { condition: 'service_healthy' },
        'ml-service-green-2': { condition: 'service_healthy' },
      });
    });

    it('builds each color from this Dockerfile into its own local tag', () => {
      for (const color of COLORS) {
        const service = config.services[SERVICE[color]];
        expect(service.image).toBe(`ml-model-service:${color}`);
        expect(service.build).toMatchObject({ context: WORKSPACE_ROOT, dockerfile: 'Dockerfile' });
      }
    });

    it.each(COLORS)('lets a deploy give %s a new image without touching the other color', (color) => {
      const other = color === 'blue' ? 'green' : 'blue';
      const image = 'ghcr.io/acme/ml-deployment/model-service:3f2c1e0';
      const deployed = composeConfig(compose as string[], { [`${color.toUpperCase()}_IMAGE`]: image });
      expect(deployed.services[SERVICE[color]].image).toBe(image);
      expect(deployed.services[SERVICE[other]].image).toBe(`ml-model-service:${other}`);
      expect(deployed.services['nginx'].image).toBe(config.services['nginx'].image);
    });
  },
);
