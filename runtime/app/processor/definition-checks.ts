// A processor's own declaration mistakes, found at start where the declaration shows them (outcome
// names, tables the host cannot serve) and at the call where only running shows them (an emit to an
// undeclared output): both are definition errors (exit 2), never TRIBUTARY_KAFKA_FATAL.
import { DefinitionError, ResourceError, describeError } from '../../errors.ts';
import { RUNTIME_OUTCOMES } from './processor-metrics.ts';
import type { AnyProcessorDefinition, OutcomesSpec, ProcessorConfig } from './definition.ts';
import type { ConfigShape } from '../../config/index.ts';

/** Metric label values: small, stable, snake_case. */
const LABEL = /^[a-z][a-z0-9_]*$/;
/** Store names end up in changelog topic names. */
const TOPIC_PART = /^[A-Za-z0-9_-]+$/;

export interface OutcomeLabel {
  outcome: string;
  /** '' for an outcome declared without reasons. */
  reason: string;
}

/** Every (outcome, reason) pair a definition may count: the closed label set of its metrics. */
export function declaredOutcomes(definition: AnyProcessorDefinition): OutcomeLabel[] {
  const spec = (definition.outcomes ?? []) as OutcomesSpec;
  if (isOutcomeList(spec)) return spec.map((outcome) => ({ outcome, reason: '' }));
  return Object.entries(spec).flatMap(([outcome, reasons]) => reasons.map((reason) => ({ outcome, reason })));
}

function isOutcomeList(spec: OutcomesSpec): spec is readonly string[] {
  return Array.isArray(spec);
}

export interface DefinitionCheckOptions {
  /** False where the host cannot serve reference tables yet (the Kafka host, today). */
  tablesSupported: boolean;
}

/** Throws a DefinitionError listing every problem of the declaration itself. */
export function checkDefinition(definition: AnyProcessorDefinition, options: DefinitionCheckOptions): void {
  const problems = [...outcomeProblems(definition), ...storeProblems(definition)];
  const tables = Object.keys((definition.tables ?? {}) as object);
  if (tables.length > 0 && !options.tablesSupported)
    problems.push(`declares reference tables (${tables.join(', ')}), which this runtime does not serve yet`);
  if (problems.length > 0)
    throw new DefinitionError(
      'TRIBUTARY_DEFINITION_INVALID',
      `processor ${definition.name} is not declared correctly: ${problems.join('; ')}`,
      { context: { processor: definition.name, problems } },
    );
}

function outcomeProblems(definition: AnyProcessorDefinition): string[] {
  const problems: string[] = [];
  for (const { outcome, reason } of declaredOutcomes(definition)) {
    if (!LABEL.test(outcome)) problems.push(`outcome "${outcome}" is not snake_case`);
    if ((RUNTIME_OUTCOMES as readonly string[]).includes(outcome))
      problems.push(`outcome "${outcome}" is one the runtime records itself; choose another name`);
    if (reason !== '' && !LABEL.test(reason))
      problems.push(`reason "${reason}" of outcome "${outcome}" is not snake_case`);
  }
  return problems;
}

function storeProblems(definition: AnyProcessorDefinition): string[] {
  return Object.keys((definition.stores ?? {}) as object)
    .filter((store) => !TOPIC_PART.test(store))
    .map((store) => `store "${store}" cannot be part of a changelog topic name (letters, digits, _ and -)`);
}

/** Runs the definition's `open` hook; any failure becomes TRIBUTARY_DEFINITION_OPEN_FAILED. */
export async function openResources(
  definition: AnyProcessorDefinition,
  config: ProcessorConfig<ConfigShape>,
): Promise<unknown> {
  if (definition.open === undefined) return undefined;
  try {
    return await definition.open(config);
  } catch (error) {
    if (error instanceof ResourceError) throw error;
    throw new DefinitionError(
      'TRIBUTARY_DEFINITION_OPEN_FAILED',
      `processor ${definition.name} could not open its start-time resources: ${describeError(error)}`,
      { cause: error, context: { processor: definition.name } },
    );
  }
}

/** A mistake only a call shows (an emit to an undeclared output, say). */
export function undeclared(definition: AnyProcessorDefinition, what: string): DefinitionError {
  return new DefinitionError('TRIBUTARY_DEFINITION_INVALID', `processor ${definition.name} ${what}`, {
    context: { processor: definition.name },
  });
}
