// /healthz (the process is alive and its loop turns), /readyz (assigned, restored, caught up), /metrics.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthStatus {
  ok: boolean;
  reason: string;
}

export interface HealthSources {
  live(): HealthStatus;
  ready(): HealthStatus;
  metrics: Registry;
}

export interface HealthServer {
  port: number;
  close: () => Promise<void>;
}

export async function startHealthServer(
  host: string,
  port: number,
  sources: HealthSources,
): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer = (status: HealthStatus): void => {
      response.writeHead(status.ok ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status));
    };
    if (path === '/healthz') return answer(sources.live());
    if (path === '/readyz') return answer(sources.ready());
    if (path === '/metrics') {
      sources.metrics
        .metrics()
        .then((text) => {
          response.writeHead(200, { 'content-type': sources.metrics.contentType });
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        });
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
