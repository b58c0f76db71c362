// The schema registry client a process builds from its config: basic auth, a private CA for https,
// and, with TRIBUTARY_REGISTRY_AUTO_REGISTER=false, a registry that refuses to register anything (schemas
// are then registered only by the deploy step, `./tributary schemas register`).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { SecurityConfig } from '../config/security-config.ts';
import { TributaryError } from '../errors.ts';
import { HttpSchemaRegistry } from './http-schema-registry.ts';

export type RegistrySettings = Partial<
  Pick<SecurityConfig, 'registryUsername' | 'registryPassword' | 'registryCaFile' | 'registryAutoRegister'>
> & { registryUrl: string };

/** A fetch over node:https that trusts `ca` (the global fetch takes no CA without undici's Agent). */
export function fetchTrusting(ca: string): typeof fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const req = request(url, { method: init?.method ?? 'GET', headers, ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
        res.on('error', reject);
      });
      init?.signal?.addEventListener('abort', () => req.destroy(init.signal?.reason as Error));
      req.on('error', reject);
      req.end(typeof init?.body === 'string' ? init.body : undefined);
    });
}

/** Registers nothing: a subject without the schema is an error that names the deploy step. */
function refuseRegistering(registry: HttpSchemaRegistry): HttpSchemaRegistry {
  const refusal = (subject: string): TributaryError =>
    new TributaryError(
      'TRIBUTARY_SCHEMA_NOT_REGISTERED',
      `the schema for subject ${subject} is not registered in ${registry.baseUrl}, and this process may not ` +
        'register it (TRIBUTARY_REGISTRY_AUTO_REGISTER=false): run `./tributary schemas register` first',
      { context: { subject, registry: registry.baseUrl } },
    );
  // Everything else (lookups, reads) is the registry's own: the wrapper inherits it.
  return Object.assign(Object.create(registry) as HttpSchemaRegistry, {
    register: (subject: string) => Promise.reject(refusal(subject)),
    setCompatibility: (subject: string) => Promise.reject(refusal(subject)),
  });
}

export function registryFromConfig(config: RegistrySettings): HttpSchemaRegistry {
  const registry = new HttpSchemaRegistry({
    url: config.registryUrl,
    ...(config.registryUsername === undefined ? {} : { username: config.registryUsername }),
    ...(config.registryPassword === undefined ? {} : { password: config.registryPassword }),
    ...(config.registryCaFile === undefined
      ? {}
      : { fetch: fetchTrusting(readFileSync(config.registryCaFile, 'utf8')) }),
  });
  return config.registryAutoRegister === false ? refuseRegistering(registry) : registry;
}
