import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, findFreePorts } from './ports.ts';

describe('findFreePorts', () => {
  // A port from the ephemeral range can be taken by any outgoing connection before its user binds it.
  it('hands out distinct bindable ports below the range the kernel gives to listen(0) and connections', async () => {
    const ports = await findFreePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) expect(port).toBeLessThan(ephemeralPortRange()[0]);
    for (const port of ports) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: '127.0.0.1', exclusive: true }, resolve);
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
