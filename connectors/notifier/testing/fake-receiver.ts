// A local HTTP receiver for tests, speaking Alertmanager's API (POST /api/v2/alerts, bodies checked
// against the OpenAPI, 400 like Alertmanager for a bad one) or a plain JSON webhook. It de-duplicates by
// Idempotency-Key as a real receiver would (every arrival is counted, so duplicates on the wire show),
// can be taken down (connection refused) and brought back on the same port, answer a status for a
// while, or refuse chosen keys for good.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postableAlertsProblems } from './alertmanager-api.ts';

export interface FakeReceiver {
  readonly url: string;
  /** Arrivals per idempotency key, accepted ones only (a 2xx answer). */
  readonly accepted: Map<string, number>;
  /** Bodies of accepted requests, first arrival per key. */
  readonly bodies: Map<string, unknown>;
  /** Bodies of accepted requests, last arrival per key (a re-sent FIRING's latest endsAt). */
  readonly latest: Map<string, unknown>;
  /** Keys of accepted requests in the order they were answered. */
  readonly arrivals: string[];
  /** Authorization headers seen. */
  readonly authorizations: Set<string>;
  /** Requests that got a non-2xx answer. */
  failedAnswers: number;
  /** Keys answered 400 every time. */
  readonly refuse: Set<string>;
  /** Answer this status to everything while set (e.g. 503). */
  answer: number | undefined;
  /** Delay before each answer, ms. */
  delayMs: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startFakeReceiver(kind: 'alertmanager' | 'webhook'): Promise<FakeReceiver> {
  const path = kind === 'alertmanager' ? '/api/v2/alerts' : '/hook';
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readBody(request);
    if (fake.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
    const key = String(request.headers['idempotency-key'] ?? '');
    const status = statusFor(request, text, key);
    if (status >= 300) fake.failedAnswers++;
    else {
      fake.accepted.set(key, (fake.accepted.get(key) ?? 0) + 1);
      if (!fake.bodies.has(key)) fake.bodies.set(key, JSON.parse(text));
      fake.latest.set(key, JSON.parse(text));
      fake.arrivals.push(key);
      if (request.headers.authorization !== undefined) fake.authorizations.add(request.headers.authorization);
    }
    response.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '' : '"refused"');
  };
  const statusFor = (request: IncomingMessage, text: string, key: string): number => {
    if (request.method !== 'POST' || request.url !== path) return 404;
    if (fake.answer !== undefined) return fake.answer;
    if (key === '' || fake.refuse.has(key)) return 400;
    if (kind === 'webhook') return 200;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return 400;
    }
    return postableAlertsProblems(body).length === 0 ? 200 : 400;
  };
  let server = createServer((req, res) => void handle(req, res));
  const port = await listen(server, 0);
  const fake: FakeReceiver = {
    url: kind === 'alertmanager' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/hook`,
    accepted: new Map(),
    bodies: new Map(),
    latest: new Map(),
    arrivals: [],
    authorizations: new Set(),
    failedAnswers: 0,
    refuse: new Set(),
    answer: undefined,
    delayMs: 0,
    down: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    up: async () => {
      server = createServer((req, res) => void handle(req, res));
      await listen(server, port);
    },
    close: () => fake.down().catch(() => undefined),
  };
  return fake;
}
