// Local Avro compatibility check. avsc's resolver decides (can `reader` read what `writer` wrote?);
// this file's job is to say WHY not, naming the field: the registry's own answer rarely does (Apicurio
// gives a bare `is_compatible: false`).
import avro from 'avsc';
import type { Type } from 'avsc';
import { describeError } from '../errors.ts';

export type CompatibilityProblem =
  | { kind: 'added-without-default'; path: string }
  | { kind: 'changed-type'; path: string; from: string; to: string }
  | { kind: 'dropped-symbols'; path: string; symbols: string[] }
  | { kind: 'renamed'; path: string; from: string; to: string }
  | { kind: 'other'; path: string; detail: string };

/** Whether a reader of schema `reader` can decode data written with schema `writer`. */
export function canRead(reader: Type, writer: Type): boolean {
  return resolveError(reader, writer) === undefined;
}

/** Why `reader` cannot read `writer` ([] when it can), one entry per offending field. */
export function findProblems(reader: Type, writer: Type): CompatibilityProblem[] {
  const error = resolveError(reader, writer);
  if (error === undefined) return [];
  const problems = explain(reader, writer, '');
  return problems.length > 0 ? problems : [{ kind: 'other', path: '', detail: error }];
}

/**
 * Human sentences for the problems found against each writer version, merged across versions:
 * `field "region" was added without a default (versions 1, 2 have no such field)`.
 */
export function formatProblems(
  perVersion: ReadonlyArray<{ version: number; problems: readonly CompatibilityProblem[] }>,
): string[] {
  const merged = new Map<string, { versions: number[]; missingField: boolean }>();
  for (const { version, problems } of perVersion) {
    for (const problem of problems) {
      const sentence = sentenceFor(problem);
      const entry = merged.get(sentence) ?? {
        versions: [],
        missingField: problem.kind === 'added-without-default',
      };
      if (!entry.versions.includes(version)) entry.versions.push(version);
      merged.set(sentence, entry);
    }
  }
  return [...merged].map(([sentence, { versions, missingField }]) => {
    if (!missingField) return sentence;
    const plural = versions.length > 1;
    return `${sentence} (version${plural ? 's' : ''} ${versions.join(', ')} ${plural ? 'have' : 'has'} no such field)`;
  });
}

function sentenceFor(problem: CompatibilityProblem): string {
  const subject = problem.path === '' ? 'the schema' : `field "${problem.path}"`;
  switch (problem.kind) {
    case 'added-without-default':
      return `${subject} was added without a default`;
    case 'changed-type':
      return `${subject} changed type from ${problem.from} to ${problem.to}`;
    case 'dropped-symbols':
      return `${subject} dropped enum symbol(s) ${problem.symbols.join(', ')} and has no default symbol`;
    case 'renamed':
      return `${problem.path === '' ? 'the record' : subject} was renamed from ${problem.from} to ${problem.to} without an alias`;
    case 'other':
      return `${subject} cannot be read: ${problem.detail}`;
  }
}

function resolveError(reader: Type, writer: Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function explain(reader: Type, writer: Type, path: string): CompatibilityProblem[] {
  if (canRead(reader, writer)) return [];
  const { RecordType, EnumType, ArrayType, MapType } = avro.types;
  if (reader instanceof RecordType && writer instanceof RecordType) {
    const problems: CompatibilityProblem[] = [];
    const readerName = reader.name ?? '';
    const writerName = writer.name ?? '';
    if (readerName !== writerName && !(reader.aliases ?? []).includes(writerName)) {
      problems.push({ kind: 'renamed', path, from: writerName, to: readerName });
    }
    for (const field of reader.fields) {
      const names = [field.name, ...(field.aliases ?? [])];
      const source = writer.fields.find((candidate) => names.includes(candidate.name));
      const fieldPath = join(path, field.name);
      if (source === undefined) {
        if (field.defaultValue() === undefined)
          problems.push({ kind: 'added-without-default', path: fieldPath });
      } else {
        problems.push(...explain(field.type, source.type, fieldPath));
      }
    }
    return problems;
  }
  if (reader instanceof EnumType && writer instanceof EnumType) {
    const dropped = writer.symbols.filter((symbol) => !reader.symbols.includes(symbol));
    if (dropped.length > 0) return [{ kind: 'dropped-symbols', path, symbols: dropped }];
  }
  if (reader instanceof ArrayType && writer instanceof ArrayType) {
    return explain(reader.itemsType, writer.itemsType, `${path}[]`);
  }
  if (reader instanceof MapType && writer instanceof MapType) {
    return explain(reader.valuesType as Type, writer.valuesType as Type, `${path}{}`);
  }
  return [{ kind: 'changed-type', path, from: describeType(writer), to: describeType(reader) }];
}

/** Short name of a type for messages: `int`, `null | bytes`, `array<string>`, `tributary.Foo`. */
export function describeType(type: Type): string {
  const { ArrayType, MapType, UnwrappedUnionType, WrappedUnionType } = avro.types;
  if (type instanceof UnwrappedUnionType || type instanceof WrappedUnionType) {
    return type.types.map(describeType).join(' | ');
  }
  if (type instanceof ArrayType) return `array<${describeType(type.itemsType)}>`;
  if (type instanceof MapType) return `map<${describeType(type.valuesType as Type)}>`;
  return type.name ?? type.typeName;
}
