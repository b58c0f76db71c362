// The reference tables a processor declares, as one copy holds them: built from the definition, loaded
// in full before the copy joins its group (so before ready and before its first record), followed
// between batches, tracked in metrics, described on /readyz while loading, closed on shutdown.
import type { Registry } from 'prom-client';
import { TributaryError } from '../../errors.ts';
import type { RuntimeConfig } from '../../config/index.ts';
import type { Logger } from '../../observability/index.ts';
import { SCHEMAS_DIR, loadSchemas } from '../../serde/index.ts';
import type { SchemaRegistry } from '../../serde/index.ts';
import { ReferenceTable, TableMetrics, describeTableProgress } from '../../tables/index.ts';
import type { AnyProcessorDefinition, TableDeclaration, TableView } from './definition.ts';

export class ProcessorTables {
  /** What `ctx.table(name)` answers from. */
  readonly views: ReadonlyMap<string, TableView<unknown>>;

  private constructor(private readonly tables: readonly ReferenceTable<unknown>[]) {
    this.views = new Map(tables.map((table) => [table.name, table]));
  }

  /** The declared tables, not yet loaded; undefined when the processor declares none. */
  static create(
    definition: AnyProcessorDefinition,
    config: RuntimeConfig,
    registry: SchemaRegistry,
    log: Logger,
    metrics: Registry,
  ): ProcessorTables | undefined {
    const declared = Object.entries((definition.tables ?? {}) as Record<string, TableDeclaration<unknown>>);
    if (declared.length === 0) return undefined;
    const schemas = loadSchemas(SCHEMAS_DIR);
    const tables = declared.map(([name, declaration]) => {
      const { value } = declaration;
      const schema = value.kind === 'avro' ? schemas.get(value.schema) : undefined;
      if (schema === undefined) {
        throw new TributaryError(
          'TRIBUTARY_SCHEMA_INVALID',
          `table ${name} of ${definition.name} must be Avro with a schema in ${SCHEMAS_DIR}`,
          { context: { table: name } },
        );
      }
      return new ReferenceTable<unknown>({
        name,
        topic: config.topicPrefix + declaration.topic,
        brokers: config.kafkaBrokers,
        // The processor's group: its ACLs cover the table's reader (see TopicFollowerSettings.groupId).
        groupId: config.topicPrefix + definition.name,
        registry,
        readerType: schema.type,
        validFrom: declaration.validFrom ?? { from: 'record_timestamp' },
        ...(declaration.historyMs === undefined ? {} : { historyMs: declaration.historyMs }),
        logger: log,
      });
    });
    const tableMetrics = new TableMetrics(metrics);
    for (const table of tables) tableMetrics.track(table);
    return new ProcessorTables(tables);
  }

  /** Reads every table to the end offsets it finds at start; rejects if one cannot be loaded. */
  async load(): Promise<void> {
    await Promise.all(this.tables.map((table) => table.load()));
  }

  /** Applies the updates that arrived since the last batch; throws if a table stopped following. */
  poll(): void {
    for (const table of this.tables) table.poll();
  }

  get isLoaded(): boolean {
    return this.tables.every((table) => table.isLoaded);
  }

  /** For /readyz: `loading reference tables: services: loaded; customers: loading 4 of 10 offsets (40%)`. */
  describeLoading(): string {
    const progress = this.tables.map((table) => describeTableProgress(table.progress()));
    return `loading reference tables: ${progress.join('; ')}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.tables.map((table) => table.close()));
  }
}
