// The consumer test: Kindling as a downstream project meets it. Packs every publishable package (as `pnpm
// publish` would: `workspace:` ranges become versions), installs the tarballs into copies of `examples/` in a
// temporary folder outside the workspace (engine-strict: no package in any install may declare engines this Node
// does not meet, so Node 20 installs print no engine warning), type-checks each strictly (node16 for the Node ones, bundler for the
// browser one), runs the Node ones for one epoch on their tiny data, bundles the browser one for the browser
// (esbuild fails on any Node built-in) and with Vite, opens both pages and a script-tag page in Chromium (each
// answers as Node does, with no copied .wasm file), reports the size of that browser-only install and the
// native binaries in it, and runs every README snippet in a project of its own. Run by `.ci/run` after the build; `node scripts/consumer-test.mjs`.
import { spawnSync } from 'node:child_process';
/* global window, document -- read inside the pages Chromium opens */
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { extname, join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'kindling-consumer-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options, env: { ...process.env, ...options.env } });
  if (result.status !== 0) {
    const where = options.cwd === undefined ? '' : ` in ${relative(work, options.cwd) || work}`;
    throw new Error(`${command} ${args.join(' ')}${where} failed (${result.status}):\n${result.stdout}\n${result.stderr}`.trim());
  }
  return result.stdout;
}

const step = (text) => console.log(`consumer: ${text}`);
/** The bare program's bundle answering for bare-shapes/circle/0000.png in Node: the browser pages must agree. */
let nodeAnswer;

/** Serves the browser example's pages to Chromium and checks each answers as Node did, with no .wasm fetched. */
async function checkPages(browser, bundle, picture, cdn) {
  const chromiumPath = process.env.KINDLING_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) return step(`browser pages skipped: no Chromium at ${chromiumPath} (apt install chromium, or set KINDLING_CHROMIUM)`);
  const { chromium } = createRequire(join(root, 'tests', 'browser', 'package.json'))('playwright-core');
  const requested = [];
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.png': 'image/png', '.bin': 'application/octet-stream', '.wasm': 'application/wasm', '.css': 'text/css' };
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    requested.push(path);
    if (path === '/favicon.ico') return void response.writeHead(204).end();
    const file = path.endsWith('/picture.png') ? picture
      : path.includes('/model/') ? join(bundle, path.slice(path.indexOf('/model/') + '/model/'.length))
      : path.startsWith('/npm/') ? join(browser, 'node_modules', path.slice('/npm/'.length))
      : path.startsWith('/cdn/@kindling/script-tag/') ? join(cdn, path.slice('/cdn/@kindling/script-tag/'.length))
      : path.startsWith('/vite/') ? join(browser, 'dist-vite', path.slice('/vite/'.length))
      : join(browser, path);
    if (path.includes('..') || !existsSync(file) || !statSync(file).isFile()) return void response.writeHead(404).end('not found');
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const chrome = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const agrees = (answer, where) => {
      if (answer.label !== nodeAnswer.label || Math.abs(answer.confidence - nodeAnswer.confidence) > 0.01) {
        throw new Error(`${where} answered ${JSON.stringify(answer)}, Node answered ${JSON.stringify(nodeAnswer)}`);
      }
    };
    for (const [name, url] of [['esbuild', `${base}/esbuild.html`], ['Vite', `${base}/vite/index.html`], ['script tag', `${base}/script.html`]]) {
      requested.length = 0;
      const page = await chrome.newPage();
      const errors = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
      await page.goto(url);
      let answer;
      if (name === 'script tag') {
        await page.waitForFunction(() => window.result !== undefined, undefined, { timeout: 60_000 });
        answer = await page.evaluate(() => window.result);
        if (answer.error !== undefined) throw new Error(`the script-tag page failed: ${answer.error}`);
        if (!Array.isArray(answer.top) || answer.top[0].label !== answer.label) throw new Error(`the script-tag page's answer has no sorted top list: ${JSON.stringify(answer)}`);
        if (['image', 'segmentation', 'sound', 'pointer', 'tabular', 'collab'].some((kind) => !answer.kinds.includes(kind))) throw new Error(`the script-tag build registers ${answer.kinds.join(', ')}, not every kind`);
      } else {
        await page.waitForSelector('#picture:not([disabled])', { timeout: 60_000 }).catch(async () => {
          throw new Error(`the ${name} page did not start: ${await page.textContent('#status')} ${errors.join(' | ')}`);
        });
        await page.setInputFiles('#picture', picture);
        await page.waitForSelector('#answer[data-label]', { timeout: 60_000 });
        answer = await page.evaluate(() => ({ label: document.querySelector('#answer').dataset.label, confidence: Number(document.querySelector('#answer').dataset.confidence), status: document.querySelector('#status').textContent }));
      }
      agrees(answer, `the ${name} page`);
      const wasmFetched = requested.filter((path) => path.endsWith('.wasm'));
      const nodeOnly = requested.filter((path) => path.includes('tfjs-node'));
      if (wasmFetched.length > 0 || nodeOnly.length > 0 || errors.length > 0) throw new Error(`the ${name} page fetched ${[...wasmFetched, ...nodeOnly].join(', ') || 'nothing odd'}; errors: ${errors.join(' | ') || 'none'} (requests: ${requested.join(', ')})`);
      step(`browser: the ${name} page answers ${answer.label} (${(answer.confidence * 100).toFixed(1)}%, as Node) with no copied .wasm file${answer.status ? ` — ${answer.status}` : ` on ${answer.backend}`}`);
      await page.close();
    }
  } finally {
    await chrome.close();
    server.close();
  }
}

/** The files the README snippets name, made with the installed packages (run in the snippets project). */
const SNIPPET_FILES = `
  import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
  import { join } from 'node:path';
  import { generateShapesDataset } from '@kindling/image/node';
  import { generateSoundDataset } from '@kindling/audio/node';
  import { generatePointerDataset } from '@kindling/pointer/node';
  const first = (folder) => { const entry = readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))[0]; return entry.isDirectory() ? first(join(folder, entry.name)) : join(folder, entry.name); };
  const pets = await generateShapesDataset('pets', { perClass: 8, size: 64, seed: 3 });
  cpSync(first(pets), 'photo.png');
  cpSync(first(await generateSoundDataset('sounds', { perClass: 1, seed: 3 })), 'dog.wav');
  cpSync(first(await generatePointerDataset('pointer', { perClass: 1, seed: 3 })), 'session.json');
  for (const [label, texts] of [['vowels', ['aeiou', 'eau', 'aia', 'oui', 'ieu']], ['consonants', ['brrr', 'psst', 'hmm', 'shh', 'tsk']]]) {
    mkdirSync(join('letters', label), { recursive: true });
    texts.forEach((text, index) => writeFileSync(join('letters', label, index + '.txt'), text.repeat(4)));
  }
  for (const to of ['runs/image', 'runs/shapes']) cpSync(process.argv[1], to, { recursive: true });
`;

/** Compiles every README snippet in a project that installs the tarballs, then runs each that may run. */
async function runReadmeSnippets(folder, overrides, bundle) {
  const { readmeSnippets } = await import('./readme-snippets.mjs');
  const snippets = readmeSnippets(root);
  const example = JSON.parse(readFileSync(join(root, 'examples', 'node-esm', 'package.json'), 'utf8'));
  mkdirSync(join(folder, 'src'), { recursive: true });
  const dependencies = { ...Object.fromEntries(Object.entries(overrides)), '@tensorflow/tfjs': example.dependencies['@tensorflow/tfjs'], sharp: example.dependencies.sharp, '@napi-rs/canvas': example.dependencies['@napi-rs/canvas'] };
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'readme-snippets', private: true, type: 'module', dependencies, devDependencies: { typescript: example.devDependencies.typescript, '@types/node': example.devDependencies['@types/node'], vitest: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.vitest }, pnpm: { overrides } }, null, 2));
  // strict, as the READMEs advise a project (skipLibCheck: tfjs's own declarations do not pass strict)
  writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: true, outDir: 'dist', rootDir: 'src', types: ['node'] }, include: ['src'] }, null, 2));
  const files = snippets.map((snippet) => {
    const file = `${snippet.package.replace('@kindling/', '')}-line-${snippet.line}${snippet.vitest ? '.test' : ''}`;
    writeFileSync(join(folder, 'src', `${file}.ts`), `${snippet.code}\nexport {};\n`);
    return { ...snippet, file };
  });
  run('pnpm', ['install', '--ignore-workspace', '--prefer-offline', '--config.confirmModulesPurge=false', '--config.engine-strict=true'], { cwd: folder });
  run(process.execPath, [join(folder, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: folder });
  run(process.execPath, ['--input-type=module', '-e', SNIPPET_FILES, bundle], { cwd: folder });
  const skipped = [];
  for (const snippet of files) {
    const where = `${snippet.folder}/README.md:${snippet.line}`;
    if (snippet.compileOnly !== undefined) {
      skipped.push(`${where} (${snippet.compileOnly})`);
      continue;
    }
    const began = Date.now();
    const command = snippet.vitest ? [join(folder, 'node_modules', 'vitest', 'vitest.mjs'), 'run', `${snippet.file}.js`, '--dir', 'dist'] : [join('dist', `${snippet.file}.js`)];
    const result = spawnSync(process.execPath, command, { cwd: folder, encoding: 'utf8', timeout: 300_000 });
    if (snippet.vitest && !/Tests\s+\S*\d+ passed/.test(stripVTControlCharacters(result.stdout))) throw new Error(`vitest ran no test of the README snippet at ${where}:\n${result.stdout.slice(-2000)}`);
    if (result.status !== 0) throw new Error(`the README snippet at ${where} failed (${result.status ?? result.signal}):\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-3000)}`);
    step(`README snippet ${where} runs (${((Date.now() - began) / 1000).toFixed(1)} s)`);
  }
  step(`README snippets: ${files.length - skipped.length} of ${files.length} run as written, all compile; compile only: ${skipped.join('; ')}`);
}

try {
  // 1. pack what a release publishes: the libraries and the CLI
  const publishable = [...readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name)), join(root, 'apps', 'trainer')].filter((folder) => {
    const manifest = join(folder, 'package.json');
    return existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).private !== true;
  });
  const packed = {};
  for (const folder of publishable) {
    const { name, version } = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: folder });
    const file = readdirSync(tarballs).find((entry) => entry === `${name.replace('@', '').replace('/', '-')}-${version}.tgz`);
    if (file === undefined) throw new Error(`pnpm pack wrote no tarball for ${name}`);
    packed[name] = join(tarballs, file);
  }
  step(`packed ${Object.keys(packed).length} packages`);

  // 2. each example, installed from the tarballs only (the packages among themselves too, through overrides)
  const overrides = Object.fromEntries(Object.entries(packed).map(([name, file]) => [name, `file:${file}`]));
  const examples = {};
  for (const example of ['node-esm', 'node-cjs', 'cli', 'browser']) {
    const folder = join(work, example);
    cpSync(join(root, 'examples', example), folder, { recursive: true, filter: (source) => !/node_modules|dist/.test(relative(join(root, 'examples'), source)) });
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    for (const name of Object.keys(manifest.dependencies)) if (name in packed) manifest.dependencies[name] = `file:${packed[name]}`;
    manifest.pnpm = { overrides };
    writeFileSync(join(folder, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    examples[example] = folder;
  }

  // 3. the Node examples: strict type-check (node16), build, one epoch each (cli: the kindling command line, its bin
  // and its programmatic entry runKindling)
  for (const example of ['node-esm', 'node-cjs', 'cli']) {
    const folder = examples[example];
    run('pnpm', ['install', '--ignore-workspace', '--prefer-offline', '--config.confirmModulesPurge=false', '--config.engine-strict=true'], { cwd: folder });
    run(process.execPath, [join(folder, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: folder });
    const entry = readdirSync(join(folder, 'dist')).find((file) => file.endsWith('.js'));
    const output = run(process.execPath, [join('dist', entry)], { cwd: folder, env: { EPOCHS: '1' } });
    if (!/validation accuracy \d+(\.\d+)?%/.test(output) || !/→/.test(output)) throw new Error(`${example} ran but did not train and answer:\n${output}`);
    step(`${example}: type-checks (node16, strict), trains one epoch and answers — ${output.trim().split('\n').at(-1)}`);
    if (example === 'node-esm') {
      // internals are not importable: only the entry points the exports maps name are (the dist files exist)
      const probe = `for (const path of ['@kindling/image/dist/index.js', '@kindling/recipes/dist/node.js', '@kindling/deploy/src/registry.ts']) { try { await import(path); console.log('importable: ' + path); } catch (error) { if (error.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error; } }`;
      const leaked = run(process.execPath, ['--input-type=module', '-e', probe], { cwd: folder });
      if (leaked.trim() !== '') throw new Error(`internal modules can be imported past the exports maps:\n${leaked}`);
      step('node-esm: internal files are not importable (ERR_PACKAGE_PATH_NOT_EXPORTED)');
      // a program that never calls initBackend trains on tfjs's cpu backend: Kindling says so once, naming the fix
      const bare = `import { generateShapesDataset, imageFolderDataLoaders } from '@kindling/image/node'; import { imageLearner } from '@kindling/recipes';
        const pictures = await generateShapesDataset(process.argv[1], { perClass: 6, size: 16, seed: 1 });
        const data = await imageFolderDataLoaders(pictures, { size: 16, batchSize: 8, seed: 1 });
        const { learner, model } = imageLearner(data, { arch: [4], seed: 1 }); await learner.fit(1); await learner.fit(1); console.log('trained');
        const { createBundle, registerTask } = await import('@kindling/deploy'); const { saveBundle, loadPredictor } = await import('@kindling/deploy/node');
        registerTask((await import('@kindling/image/node')).imageTask);
        await saveBundle(await createBundle(model, { kind: 'image', labels: [...data.vocab.labels], preprocessing: data.preprocessing }), process.argv[2]);
        const predictor = await loadPredictor(process.argv[2], { kind: 'image' });
        const answer = await predictor.predict((await import('node:fs')).readFileSync(process.argv[1] + '/circle/0000.png'));
        console.log('answer ' + JSON.stringify({ label: answer.label, confidence: answer.confidence }));`;
      const trained = spawnSync(process.execPath, ['--input-type=module', '-e', bare, join(work, 'bare-shapes'), join(work, 'shapes-bundle')], { cwd: folder, encoding: 'utf8' });
      const warnings = trained.stderr.split('\n').filter((line) => line.includes("pure-JavaScript 'cpu' backend"));
      if (trained.status !== 0 || !trained.stdout.includes('trained') || warnings.length !== 1 || !warnings[0].includes('initBackend()')) {
        throw new Error(`a program without initBackend should train and warn once about the cpu backend:\n${trained.stdout}\n${trained.stderr}`);
      }
      step(`node-esm: without initBackend it trains and says once: ${warnings[0].slice(0, 100)}…`);
      nodeAnswer = JSON.parse(trained.stdout.split('\n').find((line) => line.startsWith('answer ')).slice('answer '.length));
    }
    if (example === 'cli') {
      const help = run(join(folder, 'node_modules', '.bin', 'kindling'), ['train', 'image', '--help'], { cwd: folder });
      if (!/--size <pixels>/.test(help)) throw new Error(`the installed kindling bin did not print its help:\n${help}`);
      step('cli: the installed `kindling` bin runs');
      const version = run(join(folder, 'node_modules', '.bin', 'kindling'), ['--version'], { cwd: folder }).trim();
      if (version !== JSON.parse(readFileSync(join(root, 'apps', 'trainer', 'package.json'), 'utf8')).version) throw new Error(`kindling --version printed ${version}`);
      step(`cli: kindling --version prints ${version}`);
      // a headerless CSV: trained with --names, predicted as it was trained (the bundle remembers the layout)
      const plain = join(work, 'plain.csv');
      writeFileSync(plain, Array.from({ length: 40 }, (_, index) => `${index % 10},${index % 10 < 5 ? 'low' : 'high'}`).join('\n'));
      const kindling = join(folder, 'node_modules', '.bin', 'kindling');
      const headerless = spawnSync(kindling, ['train', 'tabular', plain, '--names', 'x,y', '--target', 'y', '--epochs', '2', '--out', join(work, 'plain-bundle')], { cwd: folder, encoding: 'utf8' });
      if (headerless.status !== 0 && headerless.status !== 3) throw new Error(`kindling train tabular --names failed (${headerless.status}):\n${headerless.stderr}`);
      const answers = run(kindling, ['predict', join(work, 'plain-bundle'), plain, '--json'], { cwd: folder }).split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
      if (answers.length !== 40 || answers.some((answer) => answer.prediction.top?.[0]?.label !== answer.prediction.label)) {
        throw new Error(`kindling predict on the headerless CSV it trained on gave ${answers.length} answers (40 rows), or one without a sorted top list:\n${JSON.stringify(answers[0])}`);
      }
      step(`cli: a headerless CSV trained with --names is predicted row by row (${answers.length} answers, each with its top list)`);
    }
  }

  // 4. the browser example: a production install (no bundler: the size is what a page's project pulls in),
  // strict type-check (bundler resolution, DOM), bundled for the browser
  const browser = examples.browser;
  run('pnpm', ['install', '--ignore-workspace', '--prefer-offline', '--prod', '--config.confirmModulesPurge=false', '--config.engine-strict=true'], { cwd: browser });
  const sizeOf = (path) => {
    const stat = lstatSync(path, { throwIfNoEntry: false }); // pnpm links packages to each other: count each file once
    if (stat === undefined || stat.isSymbolicLink()) return 0;
    if (!stat.isDirectory()) return stat.size;
    return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
  };
  const natives = [];
  const findNatives = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) findNatives(full);
      else if (entry.name.endsWith('.node')) natives.push(relative(join(browser, 'node_modules', '.pnpm'), full).split('/node_modules/')[0]);
    }
  };
  findNatives(join(browser, 'node_modules', '.pnpm'));
  const megabytes = sizeOf(join(browser, 'node_modules', '.pnpm')) / 1024 / 1024;
  if (natives.length > 0) throw new Error(`a browser-only install pulls native binaries: ${[...new Set(natives)].join(', ')}`);
  step(`browser: a production install of @kindling/backend, @kindling/deploy and @kindling/image with @tensorflow/tfjs is ${megabytes.toFixed(0)} MB, with no native binary`);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '-p', '.'], { cwd: browser });
  const esbuild = join(root, 'node_modules', '.bin', 'esbuild');
  run(existsSync(esbuild) ? esbuild : 'esbuild', ['src/main.ts', '--bundle', '--platform=browser', '--format=esm', '--outfile=dist/main.js', '--log-level=warning'], { cwd: browser });
  // esbuild, bundling for the browser, fails on an import of a Node built-in no package maps away
  const bundle = readFileSync(join(browser, 'dist', 'main.js'), 'utf8');
  step(`browser: type-checks (bundler, strict, DOM) and bundles for the browser with no Node built-in (${(bundle.length / 1024 / 1024).toFixed(1)} MB unminified)`);
  // a page that reads pictures carries no other modality: no sound, pointer or table code in its bundle
  const foreign = ['SoundPipeline', 'SoundPredictor', 'PointerPredictor', 'rasterize', 'TabularPredictor', 'TabularProcessor', 'Recommender'].filter((name) => new RegExp(`\\b${name}\\b`).test(bundle));
  if (foreign.length > 0) throw new Error(`the picture page's bundle carries code of other modalities: ${foreign.join(', ')}`);
  step('browser: the picture page carries no sound, pointer or table code');

  // 5. the pages, in Chromium: the example built by esbuild and by Vite, and a plain HTML file importing the
  // script-tag build from a CDN-style path; none has a copied .wasm file, none looks up a Node-only package
  run(process.execPath, [join(root, 'apps', 'demo', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', 'dist-vite', '--base', './', '--logLevel', 'warn'], { cwd: browser });
  writeFileSync(join(browser, 'esbuild.html'), readFileSync(join(browser, 'index.html'), 'utf8').replace('./src/main.ts', './dist/main.js'));
  writeFileSync(
    join(browser, 'script.html'),
    `<!doctype html><meta charset="utf-8"><title>script tag</title><script type="module">
      import { initBackend, loadPredictor, registeredTaskKinds } from '/cdn/@kindling/script-tag/dist/kindling.js';
      try {
        const report = await initBackend({ log: false });
        const predictor = await loadPredictor('./model/', { kind: 'image' });
        const answer = await predictor.predict(new Uint8Array(await (await fetch('./picture.png')).arrayBuffer()));
        window.result = { backend: report.name, label: answer.label, confidence: answer.confidence, top: answer.top, kinds: registeredTaskKinds() };
      } catch (error) { window.result = { error: String(error) }; }
    </script>`,
  );
  // the script-tag build as a CDN serves it: the files of its tarball
  const cdn = join(work, 'cdn');
  mkdirSync(cdn);
  run('tar', ['-xzf', packed['@kindling/script-tag'], '-C', cdn, '--strip-components=1']);
  await checkPages(browser, join(work, 'shapes-bundle'), join(work, 'bare-shapes', 'circle', '0000.png'), cdn);

  // 6. every README snippet of the published packages, run as written in a project of its own that installs
  // the tarballs (each compiled strictly; those marked compile-only say why): the files they name are made first
  await runReadmeSnippets(join(work, 'snippets'), overrides, join(work, 'shapes-bundle'));
  if (process.env.KINDLING_CONSUMER_REPORT) writeFileSync(process.env.KINDLING_CONSUMER_REPORT, JSON.stringify({ browserInstallMegabytes: Math.round(megabytes), nativeBinaries: [...new Set(natives)] }, null, 2));
} finally {
  if (keep) console.log(`consumer: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
