// Compression on the HTTP layer, as ClickHouse's handler does it: the response is compressed only with
// `enable_http_compression=1`, in the first Accept-Encoding this endpoint speaks (gzip, deflate, br; not
// zstd or lz4, which this Node lacks: such a client gets an uncompressed answer, as HTTP allows); a
// request body may arrive gzip/deflate/br-encoded. ClickHouse's own block compression (`compress=1`,
// `decompress=1`) is refused with a message that says what to use instead.
import {
  brotliCompressSync,
  brotliDecompressSync,
  deflateSync,
  gunzipSync,
  gzipSync,
  inflateSync,
} from 'node:zlib';
import { TributaryError } from '../../../runtime/index.ts';

const ENCODERS: Record<string, (data: Buffer) => Buffer> = {
  gzip: (data) => gzipSync(data),
  deflate: (data) => deflateSync(data),
  br: (data) => brotliCompressSync(data),
};
/** Decoders bounded by the body limit, so a small compressed body cannot inflate past it. */
const DECODERS: Record<string, (data: Buffer, limit: number) => Buffer> = {
  gzip: (data, limit) => gunzipSync(data, { maxOutputLength: limit }),
  deflate: (data, limit) => inflateSync(data, { maxOutputLength: limit }),
  br: (data, limit) => brotliDecompressSync(data, { maxOutputLength: limit }),
};

function unsupported(message: string): TributaryError {
  return new TributaryError('TRIBUTARY_CLICKHOUSE_QUERY_UNSUPPORTED', message, {
    context: { clickhouseCode: 1 },
  });
}

export function assertNoBlockCompression(params: URLSearchParams): void {
  for (const key of ['compress', 'decompress'])
    if (params.get(key) === '1')
      throw unsupported(
        `${key}=1 (ClickHouse's block compression) is not supported by this endpoint: ` +
          'use HTTP compression (enable_http_compression=1 with Accept-Encoding: gzip)',
      );
}

/** The encoding to answer in, or undefined for none. */
export function responseEncoding(
  params: URLSearchParams,
  acceptEncoding: string | undefined,
): string | undefined {
  if (params.get('enable_http_compression') !== '1' || acceptEncoding === undefined) return undefined;
  const offered = acceptEncoding.split(',').map((part) => (part.split(';')[0] ?? '').trim().toLowerCase());
  return offered.find((name) => name in ENCODERS);
}

export function encodeBody(body: Buffer, encoding: string | undefined): Buffer {
  const encode = encoding === undefined ? undefined : ENCODERS[encoding];
  return encode === undefined ? body : encode(body);
}

export function decodeBody(body: Buffer, contentEncoding: string | undefined, limit: number): Buffer {
  const name = (contentEncoding ?? '').trim().toLowerCase();
  if (name === '' || name === 'identity') return body;
  const decode = DECODERS[name];
  if (decode === undefined)
    throw unsupported(`request Content-Encoding ${name} is not supported (gzip, deflate, br)`);
  return decode(body, limit);
}
