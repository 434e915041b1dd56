import { compose, dockerOk } from './support/exec';

/** What the files create: nginx and every replica's container, the socket volume and the ml-network network. */
describe('`docker-compose ... down -v`', () => {
  it('leaves no container, volume or network of the stack', async () => {
    const down = await compose(['down', '-v']);
    expect(down.status).toBe(0);
    expect(await dockerOk(['ps', '-a', '--format', '{{.Names}}', '--filter', 'name=^ml-'])).toBe('');
    expect((await dockerOk(['volume', 'ls', '--format', '{{.Name}}'])).split('\n').filter((name) => name.endsWith('ml-sockets'))).toEqual(
      [],
    );
    expect((await dockerOk(['network', 'ls', '--format', '{{.Name}}'])).split('\n')).not.toContain('ml-network');
  });
});
