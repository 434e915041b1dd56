import { parseCommandLine } from './args';

const parse = (line: string, env: Record<string, string> = {}) => parseCommandLine(line.split(' ').filter(Boolean), env);

describe('parseCommandLine', () => {
  it('parses up with its port, model, log level and timeout flags', () => {
    expect(parse('up --router-port=8080 --blue-port 9081 --green-model=models/x.onnx --log-level=warn --timeout=90 --json')).toEqual({
      ok: true,
      command: {
        name: 'up',
        json: true,
        stateDir: undefined,
        backend: 'local',
        ports: { routerPort: 8080, bluePort: 9081 },
        models: { green: 'models/x.onnx' },
        logLevel: 'warn',
        timeoutMs: 90_000,
      },
    });
  });

  it('falls back to BLUEGREEN_* variables, and a flag wins over its variable', () => {
    const env = {
      BLUEGREEN_ROUTER_PORT: '8080',
      BLUEGREEN_GREEN_PORT: '9082',
      BLUEGREEN_STATE_DIR: '/tmp/stack-2',
      BLUEGREEN_TARGET: 'compose',
    };
    expect(parse('up --router-port=8081', env)).toMatchObject({
      ok: true,
      command: { ports: { routerPort: 8081, greenPort: 9082 }, stateDir: '/tmp/stack-2' },
    });
    expect(parse('status', env)).toMatchObject({ ok: true, command: { name: 'status', backend: 'compose' } });
    expect(parse('status --target=local', env)).toMatchObject({ ok: true, command: { backend: 'local' } });
    expect(parse('status', { BLUEGREEN_BACKEND: 'compose' })).toMatchObject({ ok: true, command: { backend: 'compose' } });
    expect(parse('status --backend=local', { BLUEGREEN_BACKEND: 'compose' })).toMatchObject({ ok: true, command: { backend: 'local' } });
  });

  it('parses switch with --color, a color argument (like switch_traffic.sh), or none (toggle)', () => {
    expect(parse('switch --color=green')).toMatchObject({ ok: true, command: { name: 'switch', color: 'green', backend: 'local' } });
    expect(parse('switch blue')).toMatchObject({ ok: true, command: { color: 'blue' } });
    expect(parse('switch')).toEqual({ ok: true, command: { name: 'switch', json: false, stateDir: undefined, backend: 'local' } });
    expect(parse('switch --color=green --expect-version=v1.1.0 --target=compose')).toMatchObject({
      ok: true,
      command: { color: 'green', expectVersion: 'v1.1.0', backend: 'compose' },
    });
    expect(parse('switch --backend=compose')).toMatchObject({ ok: true, command: { backend: 'compose' } });
  });

  it('parses shadow, diff and capture, and the diff flags of switch', () => {
    expect(parse('shadow on --percent=25')).toMatchObject({ ok: true, command: { name: 'shadow', action: 'on', percent: 25 } });
    expect(parse('shadow')).toMatchObject({ ok: true, command: { name: 'shadow', action: 'status' } });
    expect(parse('shadow off --percent=5')).toMatchObject({ ok: false, message: 'shadow: --percent and --queue-size go with "on"' });
    expect(parse('shadow on --percent=abc')).toMatchObject({
      ok: false,
      message: 'shadow: --percent must be a number from 0 to 100, not "abc"',
    });
    expect(parse('diff --replay=f.jsonl --max-diff=0.5 --min-agreement=95% --min-pairs=10')).toMatchObject({
      ok: true,
      command: { name: 'diff', diff: { replay: 'f.jsonl', maxDiff: 0.5, minAgreement: 0.95, minPairs: 10 } },
    });
    expect(parse('diff --min-agreement=2')).toMatchObject({
      ok: false,
      message: 'diff: --min-agreement must be a number from 0 to 1, not "2"',
    });
    expect(parse('switch --color=green --max-diff=0.01')).toMatchObject({
      ok: true,
      command: { name: 'switch', color: 'green', diff: { maxDiff: 0.01 } },
    });
    expect(parse('switch --color=green')).toEqual({ ok: true, command: expect.not.objectContaining({ diff: expect.anything() }) });
    expect(parse('capture --n=10 --out=x.jsonl --timeout=5')).toMatchObject({
      ok: true,
      command: { name: 'capture', n: 10, out: 'x.jsonl', timeoutMs: 5000 },
    });
    expect(parse('capture --n=0 --out=x.jsonl')).toMatchObject({ ok: false, message: 'capture: --n must be a whole number >= 1, not "0"' });
  });

  it('parses release, down, rollback and help', () => {
    expect(parse('release --model=models/v1.1.0/model.onnx --color=green')).toMatchObject({
      ok: true,
      command: { name: 'release', model: 'models/v1.1.0/model.onnx', color: 'green' },
    });
    expect(parse('release --backend=compose --image=ghcr.io/acme/model-service:3f2c1e0')).toMatchObject({
      ok: true,
      command: { name: 'release', backend: 'compose', image: 'ghcr.io/acme/model-service:3f2c1e0', switch: false },
    });
    expect(parse('release --model=models/v1.1.0/model.onnx --switch')).toMatchObject({
      ok: true,
      command: { name: 'release', switch: true },
    });
    expect(parse('down --reset --timeout=5')).toMatchObject({ ok: true, command: { name: 'down', reset: true, timeoutMs: 5000 } });
    expect(parse('rollback --json')).toMatchObject({ ok: true, command: { name: 'rollback', json: true } });
    for (const line of ['', 'help', '--help', 'switch -h']) expect(parse(line)).toMatchObject({ ok: true, command: { name: 'help' } });
  });

  it.each([
    [
      'deploy',
      'unknown command "deploy"; the commands are up, down, status, switch, rollback, release, canary, promote, judge, shadow, diff, capture, dashboard, help',
    ],
    ['canary --abort --resume', 'canary: --abort and --resume can not go together; give one'],
    ['canary --resume --steps=5,100', 'canary: --steps is for starting a canary; --resume continues the one in progress'],
    ['canary --abort --keep', 'canary: --keep keeps the weight when the canary is stopped; --abort moves it back'],
    ['canary --abort --expect-version=v1.1.0', 'canary: --expect-version is for starting a canary; --abort continues the one in progress'],
    ['canary --steps=5;100', 'canary: --steps must be percents separated by commas, e.g. 5,25,50,100, not "5;100"'],
    ['canary --interval=soon', 'canary: --interval must be a duration such as 30s, 2m or 1500ms, not "soon"'],
    ['canary --color=red', 'canary: unknown color "red" (--color); the colors are blue and green'],
    ['switch --color=red', 'switch: unknown color "red" (--color); the colors are blue and green'],
    ['switch purple', 'switch: unknown color "purple" (the color argument); the colors are blue and green'],
    ['switch green --color=blue', 'switch: --color=blue and the argument "green" disagree; give one'],
    ['switch --colour=green', "switch: Unknown option '--colour'"],
    ['status --color=green', "status: Unknown option '--color'"],
    ['up --router-port=eighty', 'up: --router-port must be a port number from 1 to 65535, not "eighty"'],
    ['up --blue-port=70000', 'up: --blue-port must be a port number from 1 to 65535, not "70000"'],
    ['up --log-level=loud', 'up: --log-level must be one of fatal, error, warn, info, debug, trace, silent, not "loud"'],
    ['down --timeout=-1', 'down: --timeout must be a number of seconds greater than 0, not "-1"'],
    ['release', 'release: release needs --model=<path to an .onnx file>, e.g. --model=models/v1.1.0/model.onnx'],
    ['rollback now', 'rollback: unexpected argument "now"'],
    ['status --target=k8s', 'status: unknown backend "k8s" (--target); use local, compose or kubernetes'],
    ['status --backend=k8s', 'status: unknown backend "k8s" (--backend); use local, compose or kubernetes'],
    ['up --backend=kubernetes', 'up: up does not manage a cluster: install with `kubectl apply -k deploy/kubernetes`'],
    ['down --backend=kubernetes', 'down: down does not manage a cluster'],
    ['switch --namespace=team-b', 'switch: --namespace is for --backend=kubernetes only'],
    ['status --backend=compose --context=prod', 'status: --context is for --backend=kubernetes only'],
    [
      'status --backend=kubernetes --namespace=Team_B',
      'status: --namespace must be a Kubernetes namespace (lowercase letters, digits and "-"), not "Team_B"',
    ],
    ['switch --backend=compose --target=local', 'switch: --backend=compose and --target=local disagree; give one'],
    ['release --backend=compose', 'release: release needs --model=<path to an .onnx file> and/or --image=<image reference>'],
  ])('refuses `%s` as bad usage', (line, message) => {
    expect(parse(line)).toEqual({ ok: false, json: false, message: expect.stringContaining(message) });
  });

  it('parses judge against two URLs (a Job in a cluster) and against the colors, and refuses one URL alone', () => {
    expect(parse('judge --canary-url=http://ml-preview:80 --stable-url=http://ml-live:80 --replay=r.jsonl --requests=400')).toEqual({
      ok: true,
      command: {
        name: 'judge',
        json: false,
        stateDir: undefined,
        backend: 'local',
        window: null,
        expectOutputChange: false,
        urls: { canary: 'http://ml-preview:80', stable: 'http://ml-live:80' },
        replay: 'r.jsonl',
        requests: 400,
      },
    });
    expect(parse('judge --backend=kubernetes')).toMatchObject({ ok: true, command: { name: 'judge', backend: 'kubernetes' } });
    expect(parse('judge --canary-url=http://ml-preview')).toMatchObject({ ok: false, message: expect.stringContaining('go together') });
    expect(parse('judge --canary-url=ftp://x --stable-url=http://y')).toMatchObject({
      ok: false,
      message: expect.stringContaining('must be an http:// URL'),
    });
  });

  it('parses judge on a window that already happened, and refuses the flags of a window the judge sends itself beside it', () => {
    const before = Date.now();
    const parsed = parse('judge --since=10m --color=green --expect-output-change');
    expect(parsed).toMatchObject({ ok: true, command: { name: 'judge', canary: 'green', expectOutputChange: true } });
    const window = parsed.ok && parsed.command.name === 'judge' ? parsed.command.window : null;
    expect(window?.since).toBeGreaterThanOrEqual(before - 600_000);
    expect(window?.since).toBeLessThanOrEqual(Date.now() - 600_000);
    expect(parse('judge --since=2026-12-07T10:00:00Z --until=2026-12-07T10:05:00Z')).toMatchObject({
      ok: true,
      command: { window: { since: Date.parse('2026-12-07T10:00:00Z'), until: Date.parse('2026-12-07T10:05:00Z') } },
    });
    expect(parse('judge --since=10m --replay=r.jsonl')).toMatchObject({
      ok: false,
      message: expect.stringContaining('give one or the other'),
    });
    expect(parse('judge --until=2026-12-07T10:05:00Z')).toMatchObject({ ok: false, message: expect.stringContaining('give --since too') });
    expect(parse('judge --since=yesterday')).toMatchObject({ ok: false, message: expect.stringContaining('a duration back from now') });
  });

  it('parses a canary start with steps and an interval, and --resume with --keep', () => {
    expect(parse('canary --color=green --steps=5,25,100 --interval=2m --json')).toMatchObject({
      ok: true,
      command: { name: 'canary', mode: 'start', color: 'green', steps: [5, 25, 100], intervalSeconds: 120, keep: false, json: true },
    });
    expect(parse('canary --interval=1500ms')).toMatchObject({ ok: true, command: { intervalSeconds: 1.5 } });
    expect(parse('canary --expect-version=v1.1.0')).toMatchObject({
      ok: true,
      command: { name: 'canary', mode: 'start', expectVersion: 'v1.1.0' },
    });
    expect(parse('canary --resume --keep')).toMatchObject({ ok: true, command: { name: 'canary', mode: 'resume', keep: true } });
    expect(parse('promote')).toMatchObject({ ok: true, command: { name: 'promote' } });
    expect(parse('canary --color=green --max-diff=0.01 --replay=f.jsonl')).toMatchObject({
      ok: true,
      command: { name: 'canary', diff: { maxDiff: 0.01, replay: 'f.jsonl' } },
    });
    expect(parse('canary --resume --max-diff=0.01')).toEqual({
      ok: false,
      json: false,
      message: expect.stringContaining('the prediction-diff flags are for starting a canary'),
    });
  });

  it('parses dashboard: loopback and port 3100 unless told, --read-only, the variables', () => {
    expect(parse('dashboard')).toMatchObject({
      ok: true,
      command: { name: 'dashboard', host: '127.0.0.1', port: 3100, readOnly: false, backend: 'local' },
    });
    expect(parse('dashboard --port=3200 --host=0.0.0.0 --allow-remote --read-only --backend=compose')).toMatchObject({
      ok: true,
      command: { host: '0.0.0.0', port: 3200, allowRemote: true, readOnly: true, backend: 'compose' },
    });
    expect(parse('dashboard', { BLUEGREEN_DASHBOARD_PORT: '3300' })).toMatchObject({ ok: true, command: { port: 3300 } });
    expect(parse('dashboard --port=http')).toEqual({
      ok: false,
      json: false,
      message: expect.stringContaining('--port must be a port number'),
    });
    expect(parse('dashboard --host=a/b')).toEqual({
      ok: false,
      json: false,
      message: expect.stringContaining('--host must be a host name'),
    });
  });

  it('refuses a dashboard beyond loopback without --allow-remote: its token and actions travel in clear (plain HTTP)', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'dashboard.example']) {
      expect(parse(`dashboard --host=${host}`)).toEqual({
        ok: false,
        json: false,
        message: expect.stringContaining('--allow-remote'),
      });
      expect(parse('dashboard', { BLUEGREEN_DASHBOARD_HOST: host })).toEqual({
        ok: false,
        json: false,
        message: expect.stringContaining('in clear'),
      });
    }
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2'])
      expect(parse(`dashboard --host=${host}`)).toMatchObject({ ok: true, command: { host, allowRemote: false } });
  });

  it('parses --context and --namespace for --backend=kubernetes, with their variables', () => {
    expect(parse('switch --backend=kubernetes --context=prod --namespace=team-b --color=green')).toEqual({
      ok: true,
      command: {
        name: 'switch',
        json: false,
        stateDir: undefined,
        backend: 'kubernetes',
        kubeContext: 'prod',
        namespace: 'team-b',
        color: 'green',
      },
    });
    expect(
      parse('rollback', { BLUEGREEN_BACKEND: 'kubernetes', BLUEGREEN_KUBE_CONTEXT: 'kind-ci', BLUEGREEN_NAMESPACE: 'ml' }),
    ).toMatchObject({ ok: true, command: { backend: 'kubernetes', kubeContext: 'kind-ci', namespace: 'ml' } });
  });

  it('names the variable when a bad value came from the environment', () => {
    expect(parse('up', { BLUEGREEN_ROUTER_PORT: 'x' })).toMatchObject({
      ok: false,
      message: 'up: BLUEGREEN_ROUTER_PORT must be a port number from 1 to 65535, not "x"',
    });
  });
});
