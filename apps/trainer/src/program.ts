import { progressBar } from '@kindling/learner/node';
import { NO_BETTER_THAN_BASELINE, OptionProblem, type OptionDescription, type OptionDescriptions } from '@kindling/recipes';
import {
  trainCollab,
  TRAIN_COLLAB_OPTIONS,
  TRAIN_IMAGE_OPTIONS,
  TRAIN_POINTER_OPTIONS,
  TRAIN_SEGMENT_OPTIONS,
  TRAIN_SOUND_OPTIONS,
  TRAIN_TABULAR_OPTIONS,
  trainImage,
  trainPointer,
  trainSegment,
  trainSound,
  trainTabular,
} from '@kindling/recipes/node';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
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

/** What a run of the command line ended with: its exit status. */
interface Outcome {
  exitCode: number;
}

/** A recipe setting's flag: `batchSize` → `--batch-size`. */
const flagOf = (option: string): string => `--${option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;

/** The launcher's own flag (not a recipe's setting): how long the workers of a data-parallel run have to join. */
const rendezvousFlag = () => new Option('--rendezvous-timeout <seconds>', 'started by a launcher (torchrun): seconds every worker has to join before the run stops, naming who is missing (default 300)').argParser(number('--rendezvous-timeout'));

/** A `kindling train <task>` command: its arguments, the recipe's settings (its flags are made from them) and the recipe. */
interface TrainCommand {
  name: string;
  description: string;
  arguments: Array<[name: string, description: string]>;
  options: OptionDescriptions;
  /** The recipe from `@kindling/recipes/node`, given the arguments and the flags (with the report's log, warnings and progress bar). */
  run: (positional: Array<string | undefined>, options: never) => Promise<{ beatsBaseline?: boolean }>;
}

/** The table of `kindling train` commands: each task's arguments, and the recipe that trains it with its settings. */
const TRAIN_COMMANDS: TrainCommand[] = [
  {
    name: 'image',
    description: 'train an image classifier on a folder with one sub-folder of pictures per class (default: a generated set of shapes)',
    arguments: [['[folder]', 'pictures in one folder per class, optionally inside train/ and valid/']],
    options: TRAIN_IMAGE_OPTIONS,
    run: ([folder], options) => trainImage(folder, options),
  },
  {
    name: 'collab',
    description: 'train a recommender on ratings (default: 100,000 generated ratings with planted tastes)',
    arguments: [['[ratings]', 'a CSV or TSV file of (user, item, rating) rows']],
    options: TRAIN_COLLAB_OPTIONS,
    run: ([file], options) => trainCollab(file, options),
  },
  {
    name: 'sound',
    description: 'train a sound classifier on recordings turned into log-mel spectrogram images (default: generated tones, chirps, noise bursts and clicks)',
    arguments: [['[folder]', 'WAV files in one folder per class (or labelled by --label-regex)']],
    options: TRAIN_SOUND_OPTIONS,
    run: ([folder], options) => trainSound(folder, options),
  },
  {
    name: 'pointer',
    description: 'train a mouse-movement classifier on recordings drawn as pictures: movements as lines, clicks as circles (default: generated human-like and bot-like sessions)',
    arguments: [['[folder]', 'recordings (Kindling JSON or Balabit CSV sessions) in one folder per class, or labelled by --labels']],
    options: TRAIN_POINTER_OPTIONS,
    run: ([folder], options) => trainPointer(folder, options),
  },
  {
    name: 'segment',
    description: 'train a U-Net that gives every pixel a class (default: generated scenes of shapes with their masks)',
    arguments: [
      ['[images]', 'folder of pictures'],
      ['[masks]', 'folder of masks with the same file names (plus --mask-suffix)'],
    ],
    options: TRAIN_SEGMENT_OPTIONS,
    run: ([images, masks], options) => trainSegment(images, masks, options),
  },
  {
    name: 'tabular',
    description: 'train a model that predicts one column of a table (default: a generated income table)',
    arguments: [['[file]', 'a CSV (or TSV) file, with a header row unless --names is given']],
    options: TRAIN_TABULAR_OPTIONS,
    run: ([file], options) => trainTabular(file, options),
  },
];

/**
 * A recipe setting as a flag, from its description: `--name <placeholder>` (`[placeholder]` when it may stand
 * alone), a switch as `--name` (or `--no-name` when on by default), its help and default, and its value read and
 * checked by the description itself.
 */
function flagFor(option: string, description: OptionDescription): Option {
  const flag = flagOf(option);
  if (description.switch) return description.default === true ? new Option(`--no-${flag.slice(2)}`, description.help) : new Option(flag, description.help).default(description.default);
  const value = description.alone === undefined ? `<${description.placeholder}>` : `[${description.placeholder}]`;
  const made = new Option(`${flag} ${value}`, description.help).argParser((text: string) => {
    try {
      return description.parse(text);
    } catch (error) {
      throw error instanceof OptionProblem ? new InvalidArgumentError(`${flag} ${error.message}`) : error;
    }
  });
  return description.default === undefined ? made : made.default(description.default, description.defaultText);
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
    for (const [option, description] of Object.entries(entry.options)) command.addOption(flagFor(option, description));
    command.addOption(rendezvousFlag());
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
          optionName: flagOf,
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
