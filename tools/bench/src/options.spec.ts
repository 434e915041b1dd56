import { DEFAULT_OPTIONS, QUICK_OPTIONS, parseBenchArgs } from './options';

describe('parseBenchArgs', () => {
  it('defaults to the full run', () => {
    expect(parseBenchArgs([])).toEqual({ ok: true, options: DEFAULT_OPTIONS });
  });

  it('--quick shortens everything, and explicit flags still win', () => {
    const parsed = parseBenchArgs(['--quick', '--connections=1,32']);
    expect(parsed.ok && parsed.options).toMatchObject({ ...QUICK_OPTIONS, quick: true, connections: [1, 32] });
  });

  it('takes --name=value, --name value, and booleans as Nx forwards them', () => {
    const parsed = parseBenchArgs([
      '--duration',
      '2.5',
      '--repeats=4',
      '--json=true',
      '--reference=false',
      '--endpoints=predict-3,health',
      '--url=http://127.0.0.1:8080/',
    ]);
    expect(parsed.ok && parsed.options).toMatchObject({
      durationSeconds: 2.5,
      repeats: 4,
      json: true,
      reference: false,
      endpoints: ['predict-3', 'health'],
      url: 'http://127.0.0.1:8080',
    });
  });

  it.each([
    [['--connections=0'], /--connections/],
    [['--repeats=1.5'], /--repeats must be a whole number/],
    [['--endpoints=predict-7'], /--endpoints takes/],
    [['--url=http://a:1', '--state-dir=x'], /either --url\/--blue-url or --state-dir/],
    [['--blue-url=http://a:1', '--service-root=x'], /--service-root is for the stack the bench starts/],
    [['--url=localhost:80'], /--url must be an http/],
    [['--nope'], /unknown option --nope/],
    [['quick'], /unexpected argument "quick"/],
    [['--quick=yes'], /--quick takes no value/],
    [['--out'], /--out needs a value/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseBenchArgs(argv);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toMatch(message);
  });
});
