import { progressBar } from '@kindling/learner/node';
import { ARCHITECTURES, NO_BETTER_THAN_BASELINE } from '@kindling/recipes';
import { MEDIUM_MODEL_PICTURES, trainCollab, trainImage, trainPointer, trainSegment, trainSound, trainTabular } from '@kindling/recipes/node';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { runningOn, startBackend, type BackendFlags } from './backend-flags';
import { predict, serveBundle } from './predict';
import { joinWorkers, launch } from './workers';

/** This package's version, from its package.json (beside `src/` and `dist/` alike). */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const number = (name: string, integer = false) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) throw new InvalidArgumentError(`${name} must be a ${integer ? 'whole ' : ''}number`);
  return parsed;
};

/** A whole number of at least 1. */
const count = (name: string) => (value: string): number => {
  const parsed = number(name, true)(value);
  if (parsed < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
  return parsed;
};

/** A whole number of at least 1, or `auto` (sized by the data). */
const numberOrAuto = (name: string) => (value: string): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const parsed = number(name, true)(value);
  if (parsed < 1) throw new InvalidArgumentError(`${name} must be at least 1, or auto`);
  return parsed;
};

/** A number of at least 0, or `auto`. */
const amountOrAuto = (name: string) => (value: string): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const parsed = number(name)(value);
  if (parsed < 0) throw new InvalidArgumentError(`${name} must be at least 0, or auto`);
  return parsed;
};

/** A rate from 0 to below 1, or `auto`. */
const rateOrAuto = (name: string) => (value: string): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const parsed = number(name)(value);
  if (parsed < 0 || parsed >= 1) throw new InvalidArgumentError(`${name} must be from 0 to below 1, or auto`);
  return parsed;
};

/** yes or no (true or false), or `auto`; a flag of an optional value given alone is `true` (commander's). */
const yesNoOrAuto = (name: string) => (value: string): boolean | 'auto' => {
  if (value === 'auto') return 'auto';
  if (value === 'yes' || value === 'no') return value === 'yes';
  throw new InvalidArgumentError(`${name} must be yes, no or auto`);
};

/** What a run of the command line ended with: its exit status. */
interface Outcome {
  exitCode: number;
}

/** One flag of a command: commander's flags and words, how its value is read, its default. */
interface Flag {
  flags: string;
  description: string;
  parse?: (value: string) => unknown;
  fallback?: unknown;
}

const flag = (flags: string, description: string, fallback?: unknown, parse?: (value: string) => unknown): Flag => ({ flags, description, fallback, parse });

/** The flags several `train` commands share, each with the task's own default and words. */
const shared = {
  epochs: (fallback: number | 'auto', auto?: string) =>
    flag('--epochs <n>', `epochs to train${auto === undefined ? '' : ` (default auto: ${auto})`}`, fallback, fallback === 'auto' ? numberOrAuto('--epochs') : number('--epochs', true)),
  lr: (fallback?: number) => flag('--lr <rate>', 'maximum learning rate of the one-cycle schedule', fallback, number('--lr')),
  wd: () => flag('--wd <decay>', 'weight decay', 0.1, number('--wd')),
  batchSize: (items: string, fallback: number | 'auto', auto?: string) =>
    flag('--batch-size <n>', `${items} per batch${auto === undefined ? '' : ` (default auto: ${auto})`}`, fallback, fallback === 'auto' ? numberOrAuto('--batch-size') : number('--batch-size', true)),
  validPct: (description: string, fallback = 0.2) => flag('--valid-pct <share>', description, fallback, number('--valid-pct')),
  size: (description: string, fallback: number) => flag('--size <pixels>', description, fallback, number('--size', true)),
  arch: (fallback: string) => flag('--arch <name>', `architecture: ${Object.keys(ARCHITECTURES).join(', ')}`, fallback),
  onBadFile: (item: string) => flag('--on-bad-file <what>', `stop at an unreadable ${item}, or skip it and report it`, 'stop'),
  seed: () => flag('--seed <n>', 'random seed', 42, number('--seed', true)),
  out: (task: string, what = ', its kindling.json and the pictures') => flag('--out <dir>', `where the model${what} go`, `runs/${task}`),
};

/** Every `train` command also takes these: a checkpoint after every epoch, and resuming from it. */
const CHECKPOINT_FLAGS: Flag[] = [
  flag('--checkpoint <file>', 'save the training state here after every epoch (with its settings beside it, in <file>.plan.json)'),
  flag('--resume', 'continue the run saved in --checkpoint (same settings) instead of starting over', false),
  flag('--early-stop <epochs>', 'stop when the validation loss has not improved for this many epochs, and keep the weights of the epoch where it was lowest (default: every epoch, the last weights)', undefined, number('--early-stop', true)),
  flag('--rendezvous-timeout <seconds>', 'started by a launcher (torchrun): seconds every worker has to join before the run stops, naming who is missing (default 300)', undefined, number('--rendezvous-timeout')),
];

/** A `kindling train <task>` command: its arguments, its flags, and the library recipe it runs. */
interface TrainCommand {
  name: string;
  description: string;
  arguments: Array<[name: string, description: string]>;
  flags: Flag[];
  /** The recipe from `@kindling/recipes/node`, given the arguments and the flags (with the report's log, warnings and progress bar). */
  run: (positional: Array<string | undefined>, options: never) => Promise<{ beatsBaseline?: boolean }>;
}

/** The table of `kindling train` commands: each task's own flags beside the shared ones, and the recipe that trains it. */
const TRAIN_COMMANDS: TrainCommand[] = [
  {
    name: 'image',
    description: 'train an image classifier on a folder with one sub-folder of pictures per class (default: a generated set of shapes)',
    arguments: [['[folder]', 'pictures in one folder per class, optionally inside train/ and valid/']],
    flags: [
      shared.size('side of the square the pictures are resized to', 32),
      flag('--method <method>', 'how pictures become square: crop, pad or squish', 'crop'),
      shared.epochs('auto', 'enough for 1,000 steps, 8–40 epochs'),
      shared.lr(),
      flag('--find-lr', 'run the learning-rate finder and train at its suggestion', false),
      flag('--tta', 'test-time augmentation: the bundle answers with the average of each picture and its mirror image (when training flips)', false),
      flag('--flip <when>', 'horizontal flips in training: auto (only when mirrored training pictures stay nearest their own class), yes or no', 'auto'),
      shared.batchSize('pictures', 'auto', 'about 32 batches an epoch, 16–128 pictures'),
      flag('--arch <name>', `architecture: auto (resnet-small under ${MEDIUM_MODEL_PICTURES.toLocaleString('en-US')} training pictures, else resnet-medium), ${Object.keys(ARCHITECTURES).join(', ')}`, 'auto'),
      flag('--pretrained <path-or-url>', 'a pretrained tfjs layers model (model.json path, file:// or http(s):// URL) to fine-tune'),
      flag('--cut-at <layer>', 'the pretrained layer whose output feeds the new head'),
      shared.seed(),
      shared.validPct('share of pictures held out when there are no train/ and valid/ folders'),
      shared.onBadFile('picture'),
      shared.out('image'),
    ],
    run: ([folder], options) => trainImage(folder, options),
  },
  {
    name: 'collab',
    description: 'train a recommender on ratings (default: 100,000 generated ratings with planted tastes)',
    arguments: [['[ratings]', 'a CSV or TSV file of (user, item, rating) rows']],
    flags: [
      flag('--user <column>', 'the user id column', 'user'),
      flag('--item <column>', 'the item id column', 'item'),
      flag('--rating <column>', 'the rating column', 'rating'),
      flag('--implicit', 'no ratings: each row is a pick, learned against sampled items the user did not pick', false),
      flag('--columns <names>', 'column names, comma separated, for a file without a header row (MovieLens u.data: user,item,rating,timestamp)'),
      flag('--delimiter <char>', 'field delimiter (default: tab for .tsv/.data, else comma)'),
      flag('--model <kind>', 'dot (dot product with biases) or neural', 'dot'),
      flag('--factors <n>', 'latent factors per user and item', 50, number('--factors', true)),
      shared.epochs(5),
      shared.lr(5e-3),
      shared.wd(),
      shared.batchSize('ratings', 512),
      shared.validPct('share of ratings held out', 0.1),
      shared.seed(),
      shared.out('collab', ' and its kindling.json'),
    ],
    run: ([file], options) => trainCollab(file, options),
  },
  {
    name: 'sound',
    description: 'train a sound classifier on recordings turned into log-mel spectrogram images (default: generated tones, chirps, noise bursts and clicks)',
    arguments: [['[folder]', 'WAV files in one folder per class (or labelled by --label-regex)']],
    flags: [
      flag('--label-regex <regex>', "label from the file name's first regex group, e.g. '^(\\d+)_' (default: the parent folder)"),
      flag('--valid-regex <regex>', 'file names matching this are the validation set (default: a random share)'),
      flag('--sample-rate <hz>', 'recordings are resampled to this rate', 8000, number('--sample-rate', true)),
      flag('--duration <seconds>', 'clips are padded or cropped to this length (randomly in training)', 1, number('--duration')),
      flag('--n-fft <n>', 'FFT size', 256, number('--n-fft', true)),
      flag('--hop <n>', 'samples between spectrogram frames', 64, number('--hop', true)),
      flag('--mels <n>', 'mel bands', 40, number('--mels', true)),
      flag('--mel-scale <scale>', 'htk or slaney', 'htk'),
      flag('--mfcc <n>', 'use this many MFCCs instead of the log-mel spectrogram', undefined, number('--mfcc', true)),
      flag('--normalize <how>', "example (each spectrogram by its mean and std) or bands (each band less its mean over time: takes out a voice's or a microphone's colour)", 'example'),
      flag('--no-augment', 'no time shift or noise mixing in training'),
      flag(
        '--speed <share>',
        'speed perturbation in training: clips played up to this share faster or slower, pitch included (e.g. 0.15, 0: off); default auto: the largest of 0.2, 0.15, 0.1, 0.05 that keeps training clips nearest their class',
        'auto',
        rateOrAuto('--speed'),
      ),
      flag('--masks <n>', 'SpecAugment in training: this many frequency bands and time stretches masked per spectrogram, each up to 15% of its axis (default 0: none)', undefined, number('--masks', true)),
      shared.epochs('auto', 'enough for 1,200 steps, 10–40 epochs'),
      shared.lr(5e-3),
      shared.batchSize('recordings', 32),
      shared.arch('resnet-small'),
      shared.seed(),
      shared.validPct('share held out when there is no --valid-regex'),
      shared.onBadFile('recording'),
      shared.out('sound'),
    ],
    run: ([folder], options) => trainSound(folder, options),
  },
  {
    name: 'pointer',
    description: 'train a mouse-movement classifier on recordings drawn as pictures: movements as lines, clicks as circles (default: generated human-like and bot-like sessions)',
    arguments: [['[folder]', 'recordings (Kindling JSON or Balabit CSV sessions) in one folder per class, or labelled by --labels']],
    flags: [
      flag('--labels <csv>', 'a CSV with the columns file and label (file names or paths), instead of folders'),
      flag('--valid-regex <regex>', 'recordings whose file name matches are the validation set (default: a random share of the recordings, each with all its windows)'),
      flag('--window <how>', 'samples: whole (one per recording), events:<count>, time:<milliseconds>, actions, or auto (windows of 50 events when the median recording has over 500)', 'auto'),
      flag('--max-windows <n>', 'most windows kept per recording, evenly spaced, so a long session does not crowd out the rest', 100, number('--max-windows', true)),
      flag('--size <pixels>', 'side of the pictures, or auto (48 for whole recordings, 32 for windows)', 'auto', numberOrAuto('--size')),
      flag('--fit <how>', "bbox (each sample's own extent), screen (the whole screen), both (the two pictures as six channels) or auto (bbox for whole recordings; both for windows when the screen size is known)", 'auto'),
      flag('--screen <WxH>', 'with --fit screen or both: the screen size of recordings that carry none (Balabit: 1920x1080)'),
      flag('--dynamics <scale>', 'speed and acceleration as brightness: linear or log (spreads slow real-world movements)', 'linear'),
      shared.epochs('auto', 'enough for 1,200 steps, 6–30 epochs'),
      shared.lr(5e-3),
      shared.batchSize('samples', 'auto', 'about 32 batches an epoch, 16–128 samples'),
      shared.arch('resnet-tiny'),
      shared.seed(),
      shared.validPct('share of recordings held out when there is no --valid-regex'),
      shared.out('pointer'),
    ],
    run: ([folder], options) => trainPointer(folder, options),
  },
  {
    name: 'segment',
    description: 'train a U-Net that gives every pixel a class (default: generated scenes of shapes with their masks)',
    arguments: [
      ['[images]', 'folder of pictures'],
      ['[masks]', 'folder of masks with the same file names (plus --mask-suffix)'],
    ],
    flags: [
      flag('--codes <file>', "class names, one per line in mask-value order ('name #rrggbb' for colour masks; a 'void' class is ignored)"),
      flag('--mask-mode <mode>', 'index (grey value = class), binary (0/255) or palette (colours from --codes)', 'index'),
      flag('--mask-suffix <text>', "added to a picture's name to find its mask, e.g. _P", ''),
      flag('--size <pixels>', 'side of the square pictures and masks are squished to (default auto: as large as the thinnest class needs, 64–384, with 128-pixel training crops above 160)', 'auto', numberOrAuto('--size')),
      flag('--widths <filters>', 'U-Net filters per level, comma separated', '16,32,64,128'),
      flag('--upsampling <how>', 'transpose (learned) or resize (bilinear + conv)', 'transpose'),
      flag('--dice [when]', 'add the Dice loss to the per-pixel cross-entropy: yes (or no value), no, or auto (default: when a class covers under 5% of the pixels)', 'auto', yesNoOrAuto('--dice')),
      shared.epochs('auto', 'at least 360 steps, 12–60 epochs'),
      shared.lr(5e-3),
      shared.batchSize('pictures', 'auto', 'about 16 batches an epoch, 2–8 pictures'),
      shared.validPct('share of pictures held out'),
      flag('--valid-regex <regex>', 'pictures whose file name matches are the validation set'),
      flag('--crop <pixels>', 'train on random squares of this side, a new one every epoch (validation on whole pictures)', undefined, number('--crop', true)),
      flag('--average', 'average the weights over the second half of training and keep the average', false),
      flag('--validate-every <n>', 'validate every n-th epoch and the last only', undefined, number('--validate-every', true)),
      shared.seed(),
      shared.out('segment'),
    ],
    run: ([images, masks], options) => trainSegment(images, masks, options),
  },
  {
    name: 'tabular',
    description: 'train a model that predicts one column of a table (default: a generated income table)',
    arguments: [['[file]', 'a CSV (or TSV) file, with a header row unless --names is given']],
    flags: [
      flag('--target <column>', 'the column to predict (default for the generated table: income)'),
      flag('--names <names>', 'column names, comma separated, for a file without a header row'),
      flag('--delimiter <char>', 'field delimiter (default: tab for .tsv, else comma)'),
      flag('--cat <columns>', 'columns to treat as categories, comma separated (others are inferred)'),
      flag('--cont <columns>', 'columns to treat as continuous numbers'),
      flag('--date <columns>', 'date columns, split into year, month, day, weekday, …'),
      flag('--ignore <columns>', 'columns to leave out (ids, leaks)'),
      flag('--task <task>', 'classification or regression (default: inferred from the target)'),
      flag('--test <file>', 'a test file with the same columns, scored once after training'),
      flag('--layers <sizes>', 'hidden layer widths, comma separated, or auto (100 under 5,000 training rows, else 200,100)', 'auto'),
      flag('--dropout <rate>', 'dropout after each hidden layer (default auto: 0.5 under 5,000 training rows, else 0.1)', 'auto', rateOrAuto('--dropout')),
      flag('--linear', 'add a linear path from the features to the output beside the hidden layers (wide and deep)', false),
      shared.epochs('auto', 'enough for 200 steps, 5–100 epochs'),
      shared.lr(1e-2),
      flag('--wd <decay>', 'weight decay (default auto: 1 under 5,000 training rows, else 0.1)', 'auto', amountOrAuto('--wd')),
      shared.batchSize('rows', 'auto', 'about 32 batches an epoch, 16–256 rows'),
      shared.validPct('share of rows held out for validation'),
      flag('--refit <when>', 'after validation, train the same model and schedule again on every row and ship that one: auto (under 5,000 training rows), yes or no', 'auto'),
      shared.seed(),
      shared.out('tabular', ' and its kindling.json'),
    ],
    run: ([file], options) => trainTabular(file, options),
  },
];

/** Adds a flag to a command. */
function addFlag(command: Command, { flags, description, parse, fallback }: Flag): void {
  if (parse !== undefined) command.option(flags, description, parse as (value: string, previous: unknown) => unknown, fallback);
  else command.option(flags, description, fallback as string | boolean | string[] | undefined);
}

/** The `kindling` program: every command and flag; a finished run whose model does not beat the trivial answer sets status 3 (its bundle is kept). */
function createProgram(outcome: Outcome): Command {
  const program = new Command()
    .name('kindling')
    .description('Train small, useful models with TensorFlow.js, from the terminal.')
    .version(VERSION, '-V, --version', "print kindling's version")
    .showHelpAfterError()
    .exitOverride(); // before the commands are added, which inherit it: a bad flag or --help returns its status instead of exiting

  const train = program.command('train').description('train a model for a task');
  for (const entry of TRAIN_COMMANDS) {
    const command = train.command(entry.name).description(entry.description);
    for (const [name, description] of entry.arguments) command.argument(name, description);
    for (const each of [...entry.flags, ...CHECKPOINT_FLAGS]) addFlag(command, each);
    command.action(async (...values: unknown[]) => {
      const options = (values.at(-1) as Command).opts<BackendFlags & { checkpoint?: string; resume?: boolean; rendezvousTimeout?: number }>();
      // under a launcher (torchrun, a PyTorchJob) this process is one worker of a data-parallel run: rank 0 reports
      const worker = await launch();
      const leads = worker === undefined || worker.rank === 0;
      await startBackend(options, !leads);
      const group = worker === undefined ? undefined : await joinWorkers(worker, options.rendezvousTimeout);
      try {
        const result = await entry.run(values.slice(0, entry.arguments.length) as Array<string | undefined>, {
          ...options,
          ...(group === undefined ? {} : { group }),
          // a launcher restarts failed workers with the same command (torchrun --max_restarts, a PyTorchJob's pods): under
          // one, a run goes on from its --checkpoint when that holds one (of the same settings)
          ...(worker !== undefined && options.checkpoint !== undefined && options.resume !== true ? { resume: 'if-saved' } : {}),
          log: (line: string) => console.log(line),
          warn: (line: string) => console.error(`kindling: warning: ${line}`),
          callbacks: leads ? [progressBar({ device: runningOn() })] : [],
        } as never);
        // under a launcher any other status than 0 is a failed worker, which torchrun restarts: the warning stays the last line
        if (result.beatsBaseline === false && worker === undefined) outcome.exitCode = NO_BETTER_THAN_BASELINE;
      } finally {
        group?.leave();
      }
    });
  }

  program
    .command('predict')
    .description("predict with a trained bundle (a folder written by `kindling train`): pictures, WAV files, pointer recordings, a CSV of rows, or inline JSON")
    .argument('<bundle>', 'the bundle: its folder (kindling.json, model.json, weights.bin) or one .kindling file')
    .argument('<inputs...>', 'files, or JSON such as \'{"user": "1", "item": "50"}\'')
    .option('--json', 'one JSON object per line', false)
    .option('--top-k <n>', "how many classes a classifier's answer lists in `top`, most likely first", count('--top-k'), 5)
    .option('--out <dir>', 'segmentation: write each mask as a coloured PNG here')
    .action(async (bundle: string, inputs: string[], options) => {
      await predict(bundle, inputs, options);
    });

  program
    .command('serve')
    .description('serve a trained bundle over HTTP: GET /health, GET /info, POST /predict (JSON, a file body, or multipart files)')
    .argument('<bundle>', 'the bundle: its folder (kindling.json, model.json, weights.bin) or one .kindling file')
    .option('--port <n>', 'port to listen on', number('--port', true), 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--body-limit <bytes>', 'largest request body', number('--body-limit', true), 10 * 1024 * 1024)
    .option('--no-batching', 'one model call per request instead of batching concurrent requests')
    .option('--max-batch <n>', 'most inputs in one batched model call', number('--max-batch', true), 32)
    .option('--max-concurrent <n>', 'requests decoded and preprocessed at once (default 4)', number('--max-concurrent', true))
    .option('--top-k <n>', "how many classes a classifier's answer lists in `top`, most likely first", count('--top-k'), 5)
    .option('--max-queue <n>', 'predictions waiting beyond those; more are answered 503 with Retry-After', number('--max-queue', true), 64)
    .option('--prepare-threads <n>', 'worker threads that read and prepare sound and mouse-recording requests off the event loop (0: on it; default one per core beyond the first, at most --max-concurrent)', number('--prepare-threads', true))
    .option('--max-body-bytes-in-flight <bytes>', 'bytes of prediction uploads received at once; a request beyond them is answered 503 before its body is read (default: the body limit × (max-concurrent + 2))', number('--max-body-bytes-in-flight', true))
    .option('--headers-timeout <ms>', "time to receive a request's headers", number('--headers-timeout', true), 10_000)
    .option('--request-timeout <ms>', 'time to receive a whole request', number('--request-timeout', true), 30_000)
    .option('--shutdown-timeout <ms>', 'on SIGTERM/SIGINT, how long requests in flight may finish before their connections are closed', number('--shutdown-timeout', true), 10_000)
    .option('--token <secret>', 'require Authorization: Bearer <secret> on /predict, /info and /metrics (or set KINDLING_TOKEN)')
    .option('--rate-limit <n>', 'at most n /predict requests a minute from one address (then 429 with Retry-After)', number('--rate-limit', true))
    .option('--cors <origins>', "web pages allowed to call the server, comma separated (e.g. https://app.example), or '*'")
    .option('--allowed-host <names>', "host names the server answers to besides localhost and IP addresses, comma separated (behind a load balancer or a DNS name), or '*'; without a --token other names get 403 (DNS rebinding)")
    .action(async (bundle: string, options) => {
      await serveBundle(bundle, options);
    });

  /** The flags every command shares: which backend runs, on how many threads, on which GPU. */
  for (const command of [...train.commands, ...program.commands.filter((command) => command !== train)]) {
    command
      .option('--backend <name>', 'tensorflow, torch, webgpu, wasm, cpu or auto', 'auto')
      .option('--threads <n>', 'threads for the torch and wasm backends (default: OMP_NUM_THREADS when set, as launchers set it per worker, else one per core; at most 8)', number('--threads', true))
      .option('--gpu-adapter <name>', 'the WebGPU adapter, by part of its name (nvidia, radeon, SwiftShader); a software adapter runs only when named');
  }

  program.addHelpText('after', '\nAdd --debug (or set KINDLING_DEBUG=1) to see the stack of an error.');
  return program;
}

/** How {@link runKindling} runs. */
export interface RunKindlingOptions {
  /** Errors with their stack (default: when `argv` has `--debug` or KINDLING_DEBUG is 1 or true). */
  debug?: boolean;
}

/**
 * Runs the `kindling` command line from a program, as the terminal does: `argv` holds the arguments after the
 * command's name (`['train', 'tabular', 'table.csv', '--target', 'income']`). Progress, tables and errors go to
 * standard output and standard error; the promise settles when the command is done (for `serve`: when the server
 * listens) with the exit status: 0 done, 1 failed (one line says why; a bad flag, an unreadable file, a run that
 * cannot be trusted), 3 trained but no better than the answer that needs no model (the bundle is kept).
 */
export async function runKindling(argv: readonly string[], options: RunKindlingOptions = {}): Promise<number> {
  const args = argv.filter((argument) => argument !== '--debug');
  const debug = options.debug ?? (args.length !== argv.length || ['1', 'true'].includes(process.env.KINDLING_DEBUG ?? ''));
  const outcome: Outcome = { exitCode: 0 };
  try {
    await createProgram(outcome).parseAsync(args, { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    // commander has already printed what was wrong with the flags (or the help, with status 0)
    if (error instanceof CommanderError) return error.exitCode;
    reportFailure(error, debug);
    return 1;
  }
}

/** One line naming the file, row or flag; with `debug`, the stack. */
export function reportFailure(error: unknown, debug: boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(debug && error instanceof Error ? `kindling: ${error.stack ?? message}` : `kindling: ${message.split('\n')[0]}`);
}
