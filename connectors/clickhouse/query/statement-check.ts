// The statement check, on the engine's own parse: `formatQuery` parses the request with ClickHouse's
// parser (refusing several statements), and `EXPLAIN AST` of that canonical text gives the tree this
// file walks. What runs is the canonical text, so what was checked is exactly what executes.
// Policy: one reading statement, no INTO OUTFILE, table functions from a short list of local generators,
// no scalar function that reads files or the outside. Settings in a SETTINGS clause are left to the
// engine's readonly=1 (it refuses any change), and introspection functions to allow_introspection_functions=0.
import { refused } from './sql-guard.ts';

/** What the engine needs to parse: its `formatQuery` and `EXPLAIN AST`, read-only. */
export interface SqlParser {
  formatQuery(sql: string): Promise<string>;
  explainAst(canonicalSql: string): Promise<string>;
}

export interface CheckedStatement {
  /** The canonical statement to execute (ClickHouse's own formatting of the request). */
  sql: string;
  /** The FORMAT clause, if the statement names one. */
  format: string | undefined;
}

interface AstNode {
  kind: string;
  /** The rest of the header line: a function's name, an identifier, a literal. */
  detail: string;
  children: AstNode[];
}

const READING_ROOTS = [
  'SelectWithUnionQuery',
  'SelectIntersectExceptQuery',
  'ShowTables',
  'ShowColumns',
  'ShowIndexes',
  'ShowCreate',
  'ShowSetting',
  'ShowFunctions',
  'ShowEngines',
  'Exists',
  'DescribeQuery',
  'Explain',
];
/** Table functions that only generate data or read this engine's own tables. */
const LOCAL_TABLE_FUNCTIONS = new Set(
  'numbers numbers_mt zeros zeros_mt generate_series generateseries generaterandom values null view merge'.split(
    ' ',
  ),
);
/** Scalar functions that read files or the outside world (readonly=1 lets them run). */
const OUTSIDE_SCALAR_FUNCTIONS = new Set(
  'file catboostevaluate modelevaluate getclienthttpheader getserversetting input'.split(' '),
);

/** Parses the indented `EXPLAIN AST` dump (one node a line, one space a level) into a tree. */
export function parseAstDump(dump: string): AstNode[] {
  const roots: AstNode[] = [];
  const stack: Array<{ depth: number; node: AstNode }> = [];
  for (const line of dump.split('\n')) {
    if (line.trim() === '') continue;
    const depth = line.length - line.trimStart().length;
    const header = line.trim().replace(/ \(children \d+\)$/, '');
    const space = header.indexOf(' ');
    const node: AstNode = {
      kind: space < 0 ? header : header.slice(0, space),
      detail: space < 0 ? '' : header.slice(space + 1),
      children: [],
    };
    while (stack.length > 0 && (stack[stack.length - 1]?.depth ?? 0) >= depth) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent === undefined) roots.push(node);
    else parent.node.children.push(node);
    stack.push({ depth, node });
  }
  return roots;
}

function functionName(node: AstNode): string {
  return (node.detail.split(' ')[0] ?? '').replace(/^`|`$/g, '').toLowerCase();
}

function checkNode(node: AstNode, parent: AstNode | undefined): void {
  if (node.kind === 'Function') {
    const name = functionName(node);
    if (parent?.kind === 'TableExpression' && !LOCAL_TABLE_FUNCTIONS.has(name))
      throw refused(
        `the table function ${name}() is refused here (it can reach files, programs or other servers)`,
      );
    if (OUTSIDE_SCALAR_FUNCTIONS.has(name)) throw refused(`the function ${name}() is refused here`);
  }
  for (const child of node.children) checkNode(child, node);
}

/** The FORMAT clause ClickHouse's formatting puts last, e.g. `… FORMAT JSONCompact`. */
const TRAILING_FORMAT = /\sFORMAT\s+`?([A-Za-z0-9_]+)`?\s*$/;

/**
 * The root's own clauses: a Literal child is INTO OUTFILE's target, an Identifier the FORMAT, but only
 * when the canonical text ends with that FORMAT: EXISTS, DESCRIBE and SHOW CREATE hold their table as an
 * Identifier child too (`EXISTS TABLE requests` is not a request for format "requests").
 */
function outputClauses(root: AstNode, canonical: string): string | undefined {
  const declared = TRAILING_FORMAT.exec(canonical)?.[1];
  let format: string | undefined;
  for (const child of root.children) {
    if (child.kind === 'Literal') throw refused('INTO OUTFILE is refused: results go back over HTTP only');
    if (child.kind === 'Identifier' && child.detail === declared) format = child.detail;
  }
  return format;
}

export async function checkStatement(parser: SqlParser, sql: string): Promise<CheckedStatement> {
  if (sql.trim() === '') throw refused('empty query');
  const canonical = await parser.formatQuery(sql);
  const roots = parseAstDump(await parser.explainAst(canonical));
  const root = roots[0];
  if (root === undefined || roots.length !== 1) throw refused('only one statement per request');
  if (!READING_ROOTS.some((kind) => root.kind.startsWith(kind)))
    throw refused(
      `this endpoint is read-only: ${root.kind} statements are refused (SELECT, SHOW, DESCRIBE, EXPLAIN, EXISTS only)`,
    );
  const explained = root.kind === 'Explain' ? root.children[0] : undefined;
  if (explained !== undefined && !READING_ROOTS.some((kind) => explained.kind.startsWith(kind)))
    throw refused(`this endpoint is read-only: EXPLAIN of ${explained.kind} is refused`);
  const format = outputClauses(root, canonical);
  for (const child of root.children) checkNode(child, root);
  return { sql: canonical, format };
}
