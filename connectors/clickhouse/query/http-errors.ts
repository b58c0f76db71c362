// Errors the way ClickHouse's HTTP interface returns them: a status chosen from the exception code, the
// text `Code: N. DB::Exception: … (NAME)`, and the X-ClickHouse-Exception-Code header.
import { describeError, isTributaryError } from '../../../runtime/index.ts';

export interface HttpError {
  status: number;
  code: number;
  body: string;
}

// As in ClickHouse's HTTPHandler (exceptionCodeToHTTPStatus), for the codes a reader can meet.
const NOT_FOUND = new Set([46, 47, 50, 60, 63, 73, 81, 115, 181]);
const BAD_REQUEST = new Set([6, 26, 27, 36, 38, 41, 42, 43, 53, 62, 69, 70, 72, 117, 457]);

/** ClickHouse's names for the codes this endpoint raises itself. */
const CODE_NAMES: Record<number, string> = {
  1: 'UNSUPPORTED_METHOD',
  50: 'UNKNOWN_TYPE',
  164: 'READONLY',
  202: 'TOO_MANY_SIMULTANEOUS_QUERIES',
  393: 'QUERY_IS_TOO_LARGE',
  497: 'ACCESS_DENIED',
  516: 'AUTHENTICATION_FAILED',
};

export function statusFor(code: number): number {
  if (code === 164 || code === 497) return 403;
  if (code === 516) return 401;
  if (code === 202) return 503;
  if (code === 393) return 413;
  if (NOT_FOUND.has(code)) return 404;
  if (BAD_REQUEST.has(code)) return 400;
  if (code === 159) return 408;
  return 500;
}

const CODE_IN_MESSAGE = /^Code: (\d+)\./;

export function toHttpError(error: unknown, version: string): HttpError {
  const fromContext = isTributaryError(error) ? error.context.clickhouseCode : undefined;
  const fromChdb = (error as { clickhouseCode?: unknown } | null)?.clickhouseCode;
  const message = describeError(error);
  const fromText = CODE_IN_MESSAGE.exec(message)?.[1];
  const code = [fromContext, fromChdb, fromText !== undefined ? Number(fromText) : undefined].find(
    (c): c is number => typeof c === 'number' && Number.isInteger(c),
  );
  const resolved = code ?? 1001; // STD_EXCEPTION
  const text = CODE_IN_MESSAGE.test(message)
    ? message
    : `Code: ${resolved}. DB::Exception: ${message}. (${CODE_NAMES[resolved] ?? 'STD_EXCEPTION'})`;
  const withVersion = / \(version [^)]*\)$/.test(text) ? text : `${text} (version ${version})`;
  return { status: statusFor(resolved), code: resolved, body: `${withVersion}\n` };
}
