// `node cli/bundled.mjs run <name>`: a long-running copy runs from one JavaScript bundle of the CLI,
// which esbuild builds from the TypeScript sources whenever one of them changed (a quarter of a second),
// instead of through tsx. tsx compiles on a loader thread that Node 20 keeps for the life of the
// process: a second V8 isolate, 20-40 MB of every copy's RSS. Any other command runs through tsx, as
// does `run` where the bundle cannot be built. `--build-only` builds it and exits (the image's build).
//
// Plain JavaScript on purpose: it must start without a TypeScript loader.
import { build, stop } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** TRIBUTARY_BUNDLE_DIR moves it (tests); the default is ignored by git like the rest of .tributary. */
const BUILD_DIR = `${process.env['TRIBUTARY_BUNDLE_DIR'] ?? `${ROOT}.tributary/build`}/`;
const BUNDLE = `${BUILD_DIR}cli.mjs`;
/** What the bundle was built from: the start of its build (ms), then its inputs relative to ROOT, by line. */
const BUILT_FROM = `${BUILD_DIR}cli.inputs`;

/**
 * Each module keeps its own import.meta.url, so paths it resolves beside itself (schemas/, migrations,
 * default rules) stay right inside the bundle.
 * @type {import('esbuild').Plugin}
 */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, (args) => ({
      loader: 'ts',
      contents: readFileSync(args.path, 'utf8')
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path))),
    }));
  },
};

/** @returns {boolean} */
function bundleIsFresh() {
  try {
    const [startedAt = '', ...inputs] = readFileSync(BUILT_FROM, 'utf8').split('\n');
    statSync(BUNDLE);
    return inputs.every((input) => statSync(`${ROOT}${input}`).mtimeMs <= Number(startedAt));
  } catch {
    return false;
  }
}

/**
 * Several copies may start at once: each writes its own files and renames them into place.
 * @param {string} path
 * @param {string | Uint8Array} contents
 */
function writeAtomically(path, contents) {
  const partial = `${path}.${process.pid}`;
  writeFileSync(partial, contents);
  renameSync(partial, path);
}

/** @returns {Promise<void>} */
async function rebuild() {
  const startedAt = Date.now();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'cli/main.ts' },
    outdir: BUILD_DIR,
    // Each dynamic import (a processor, a sink, the query engine) stays a chunk of its own, loaded only
    // when imported: in one file, every package the CLI uses would load at start (libchdb's 190 MB in
    // every processor).
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // Stack traces name the .ts files and lines; the sources themselves stay out of the map.
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [keepModuleUrls],
  });
  await stop();
  // Chunks before the entry that imports them, and the list of inputs last: a copy that finds the
  // build fresh finds all of it.
  const entryLast = [...result.outputFiles].sort(
    (a, b) => Number(a.path.startsWith(BUNDLE)) - Number(b.path.startsWith(BUNDLE)),
  );
  for (const file of entryLast) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeAtomically(file.path, file.contents);
  }
  const inputs = Object.keys(result.metafile.inputs);
  writeAtomically(BUILT_FROM, [startedAt, ...inputs].join('\n'));
}

/**
 * The bundle, rebuilt first if a source changed; undefined (with the reason on stderr) if it cannot be.
 * @returns {Promise<string | undefined>}
 */
async function freshBundle() {
  if (bundleIsFresh()) return BUNDLE;
  try {
    await rebuild();
    return BUNDLE;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`cli/bundled.mjs: cannot build ${BUNDLE} (${reason}); running through tsx\n`);
    return undefined;
  }
}

const [command] = process.argv.slice(2);
if (command === '--build-only') {
  await rebuild();
} else if (command === 'run' && (await freshBundle()) !== undefined) {
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(BUNDLE).href);
} else {
  // What `node --import tsx cli/main.ts` does: tsx's loader registers itself as it is imported.
  // @ts-expect-error tsx ships no types for its loader entry
  await import('tsx');
  await import('./main.ts');
}
