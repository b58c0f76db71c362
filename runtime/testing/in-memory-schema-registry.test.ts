import { describeSchemaRegistryContract } from './schema-registry-contract.ts';
import { InMemorySchemaRegistry } from './in-memory-schema-registry.ts';

describeSchemaRegistryContract('InMemorySchemaRegistry', () => new InMemorySchemaRegistry());
