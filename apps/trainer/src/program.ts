import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { predict, serveBundle } from './predict';
import { NO_BETTER_THAN_BASELINE } from './outcome';
import { trainCollab } from './train-collab';
import { ARCHITECTURES, trainImage } from './train-image';
import { trainPointer } from './train-pointer';
import { trainSegment } from './train-segment';
import { trainSound } from './train-sound';
import { trainTabular } from './train-tabular';

const number = (name: string, integer = false) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) throw new InvalidArgumentError(`${name} must be a ${integer ? 'whole ' : ''}number`);
  return parsed;
};

/** A whole number of at least 1, or `auto` (sized by the data). */
const numberOrAuto = (name: string) => (value: string): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const parsed = number(name, true)(value);
  if (parsed < 1) throw new InvalidArgumentError(`${name} must be at least 1, or auto`);
  return parsed;
};

/** A rate from 0 to below 1, or `auto`. */
const rateOrAuto = (name: string) => (value: string): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const parsed = number(name)(value);
  if (parsed < 0 || parsed >= 1) throw new InvalidArgumentError(`${name} must be from 0 to below 1, or auto`);
  return parsed;
};

/** What a run of the command line ended with: its exit status. */
interface Outcome {
  exitCode: number;
}

/** The `kindling` program: every command and flag; a finished run whose model does not beat the trivial answer sets status 3 (its bundle is kept). */
function createProgram(outcome: Outcome): Command {
  const exitWhenNoBetter = (result: { beatsBaseline?: boolean }): void => {
    if (result.beatsBaseline === false) outcome.exitCode = NO_BETTER_THAN_BASELINE;
  };
  const program = new Command()
    .name('kindling')
    .description('Train small, useful models with TensorFlow.js, from the terminal.')
    .showHelpAfterError()
    .exitOverride(); // before the commands are added, which inherit it: a bad flag or --help returns its status instead of exiting

  const train = program.command('train').description('train a model for a task');

  train
    .command('image')
    .description('train an image classifier on a folder with one sub-folder of pictures per class (default: a generated set of shapes)')
    .argument('[folder]', 'pictures in one folder per class, optionally inside train/ and valid/')
    .option('--size <pixels>', 'side of the square the pictures are resized to', number('--size', true), 32)
    .option('--method <method>', 'how pictures become square: crop, pad or squish', 'crop')
    .option('--epochs <n>', 'epochs to train (default auto: enough for 1,000 steps, 5–40 epochs)', numberOrAuto('--epochs'), 'auto')
    .option('--lr <rate>', 'maximum learning rate of the one-cycle schedule', number('--lr'))
    .option('--find-lr', 'run the learning-rate finder and train at its suggestion', false)
    .option('--tta', 'test-time augmentation: the bundle answers with the average of each picture and its mirror image (when training flips)', false)
    .option('--flip <when>', 'horizontal flips in training: auto (only when mirrored training pictures stay nearest their own class), yes or no', 'auto')
    .option('--batch-size <n>', 'pictures per batch (default auto: about 32 batches an epoch, 16–128 pictures)', numberOrAuto('--batch-size'), 'auto')
    .option('--arch <name>', `architecture: ${Object.keys(ARCHITECTURES).join(', ')}`, 'resnet-small')
    .option('--pretrained <path-or-url>', 'a pretrained tfjs layers model (model.json path, file:// or http(s):// URL) to fine-tune')
    .option('--cut-at <layer>', 'the pretrained layer whose output feeds the new head')
    .option('--seed <n>', 'random seed', number('--seed', true), 42)
    .option('--valid-pct <share>', 'share of pictures held out when there are no train/ and valid/ folders', number('--valid-pct'), 0.2)
    .option('--on-bad-file <what>', 'stop at an unreadable picture, or skip it and report it', 'stop')
    .option('--out <dir>', 'where the model, its kindling.json and the pictures go', 'runs/image')
    .option('--checkpoint <file>', 'save the training state here after every epoch (with its settings beside it, in <file>.plan.json)')
    .option('--resume', 'continue the run saved in --checkpoint (same settings) instead of starting over', false)
    .action(async (folder: string | undefined, options) => {
      exitWhenNoBetter(await trainImage(folder, options));
    });

  train
    .command('collab')
    .description('train a recommender on ratings (default: 100,000 generated ratings with planted tastes)')
    .argument('[ratings]', 'a CSV or TSV file of (user, item, rating) rows')
    .option('--user <column>', 'the user id column', 'user')
    .option('--item <column>', 'the item id column', 'item')
    .option('--rating <column>', 'the rating column', 'rating')
    .option('--implicit', 'no ratings: each row is a pick, learned against sampled items the user did not pick', false)
    .option('--columns <names>', 'column names, comma separated, for a file without a header row (MovieLens u.data: user,item,rating,timestamp)')
    .option('--delimiter <char>', 'field delimiter (default: tab for .tsv/.data, else comma)')
    .option('--model <kind>', 'dot (dot product with biases) or neural', 'dot')
    .option('--factors <n>', 'latent factors per user and item', number('--factors', true), 50)
    .option('--epochs <n>', 'epochs to train', number('--epochs', true), 5)
    .option('--lr <rate>', 'maximum learning rate of the one-cycle schedule', number('--lr'), 5e-3)
    .option('--wd <decay>', 'weight decay', number('--wd'), 0.1)
    .option('--batch-size <n>', 'ratings per batch', number('--batch-size', true), 512)
    .option('--valid-pct <share>', 'share of ratings held out', number('--valid-pct'), 0.1)
    .option('--seed <n>', 'random seed', number('--seed', true), 42)
    .option('--out <dir>', 'where the model and its kindling.json go', 'runs/collab')
    .option('--checkpoint <file>', 'save the training state here after every epoch (with its settings beside it, in <file>.plan.json)')
    .option('--resume', 'continue the run saved in --checkpoint (same settings) instead of starting over', false)
    .action(async (file: string | undefined, options) => {
      exitWhenNoBetter(await trainCollab(file, options));
    });

  train
    .command('sound')
    .description('train a sound classifier on recordings turned into log-mel spectrogram images (default: generated tones, chirps, noise bursts and clicks)')
    .argument('[folder]', 'WAV files in one folder per class (or labelled by --label-regex)')
    .option('--label-regex <regex>', "label from the file name's first regex group, e.g. '^(\\d+)_' (default: the parent folder)")
    .option('--valid-regex <regex>', 'file names matching this are the validation set (default: a random share)')
    .option('--sample-rate <hz>', 'recordings are resampled to this rate', number('--sample-rate', true), 8000)
    .option('--duration <seconds>', 'clips are padded or cropped to this length (randomly in training)', number('--duration'), 1)
    .option('--n-fft <n>', 'FFT size', number('--n-fft', true), 256)
    .option('--hop <n>', 'samples between spectrogram frames', number('--hop', true), 64)
    .option('--mels <n>', 'mel bands', number('--mels', true), 40)
    .option('--mel-scale <scale>', 'htk or slaney', 'htk')
    .option('--mfcc <n>', 'use this many MFCCs instead of the log-mel spectrogram', number('--mfcc', true))
    .option('--normalize <how>', 'example (each spectrogram by its mean and std) or bands (each band less its mean over time: takes out a voice\'s or a microphone\'s colour)', 'example')
    .option('--no-augment', 'no time shift or noise mixing in training')
    .option('--speed <share>', 'speed perturbation in training: clips played up to this share faster or slower, pitch included (e.g. 0.15, 0: off); default auto: the largest of 0.2, 0.15, 0.1, 0.05 that keeps training clips nearest their class', rateOrAuto('--speed'), 'auto')
    .option('--masks <n>', 'SpecAugment in training: this many frequency bands and time stretches masked per spectrogram, each up to 15% of its axis (default 0: none)', number('--masks', true))
    .option('--epochs <n>', 'epochs to train (default auto: enough for 1,200 steps, 10–40 epochs)', numberOrAuto('--epochs'), 'auto')
    .option('--lr <rate>', 'maximum learning rate of the one-cycle schedule', number('--lr'), 5e-3)
    .option('--batch-size <n>', 'recordings per batch', number('--batch-size', true), 32)
    .option('--arch <name>', `architecture: ${Object.keys(ARCHITECTURES).join(', ')}`, 'resnet-small')
    .option('--seed <n>', 'random seed', number('--seed', true), 42)
    .option('--valid-pct <share>', 'share held out when there is no --valid-regex', number('--valid-pct'), 0.2)
    .option('--on-bad-file <what>', 'stop at an unreadable recording, or skip it and report it', 'stop')
    .option('--out <dir>', 'where the model, its kindling.json and the pictures go', 'runs/sound')
    .option('--checkpoint <file>', 'save the training state here after every epoch (with its settings beside it, in <file>.plan.json)')
    .option('--resume', 'continue the run saved in --checkpoint (same settings) instead of starting over', false)
    .action(async (folder: string | undefined, options) => {
      exitWhenNoBetter(await trainSound(folder, options));
    });

  train
    .command('pointer')
    .description('train a mouse-movement classifier on recordings drawn as pictures: movements as lines, clicks as circles (default: generated human-like and bot-like sessions)')
    .argument('[folder]', 'recordings (Kindling JSON or Balabit CSV sessions) in one folder per class, or labelled by --labels')
    .option('--labels <csv>', 'a CSV with the columns file and label (file names or paths), instead of folders')
    .option('--window <how>', 'samples: whole (one per recording), events:<count>, time:<milliseconds> or actions', 'whole')
    .option('--size <pixels>', 'side of the pictures', number('--size', true), 48)
    .option('--fit <how>', "bbox (each sample's own extent), screen (the whole screen) or both (the two pictures as six channels)", 'bbox')
    .option('--screen <WxH>', 'with --fit screen or both: the screen size of recordings that carry none (Balabit: 1920x1080)')
    .option('--dynamics <scale>', 'speed and acceleration as brightness: linear or log (spreads slow real-world movements)', 'linear')
    .option('--epochs <n>', 'epochs to train', number('--epochs', true), 6)
    .option('--lr <rate>', 'maximum learning rate of the one-cycle schedule', number('--lr'), 5e-3)
    .option('--batch-size <n>', 'samples per batch', number('--batch-size', true), 32)
    .option('--arch <name>', `architecture: ${Object.keys(ARCHITECTURES).join(', ')}`, 'resnet-tiny')
    .option('--seed <n>', 'random seed', number('--seed', true), 42)
    .option('--valid-pct <share>', 'share of samples held out', number('--valid-pct'), 0.2)
    .option('--out <dir>', 'where the model, its kindling.json and the pictures go', 'runs/pointer')
    .option('--checkpoint <file>', 'save the training state here after every epoch (with its settings beside it, in <file>.plan.json)')
    .option('--resume', 'continue the run saved in --checkpoint (same settings) instead of starting over', false)
    .action(async (folder: string | undefined, options) => {
      exitWhenNoBetter(await trainPointer(folder, options));
    });

  train
    .command('segment')
    .description('train a U-Net that gives every pixel a class (default: generated scenes of shapes with their masks)')
    .argument('[images]', 'folder of pictures')
    .argument('[masks]', 'folder of masks with the same file names (plus --mask-suffix)')
    .option('--codes <file>', "class names, one per line in mask-value order ('name #rrggbb' for colour masks; a 'void' class is ignored)")
    .option('--mask-mode <mode>', 'index (grey value = class), binary (0/255) or palette (colours from --codes)', 'index')
    .option('--mask-suffix <text>', "added to a picture's name to find its mask, e.g. _P", '')
    .option('--size <pixels>', 'side of the square pictures and masks are resized to', number('--size', true), 64)
    .option('--widths <filters>', 'U-Net filters per level, comma separated', '16,32,64,128')
    .option('--upsampling <how>', 'transpose (learned) or resize (bilinear + conv)', 'transpose')
    .option('--dice', 'add the Dice loss to the per-pixel cross-entropy', false)
    .option('--epochs <n>', 'epochs to train', number('--epochs', true), 12)
    .option('--lr <rate>', 'maximum learning rate of the one-cycle schedule', number('--lr'), 1e-2)
    .option('--batch-size <n>', 'pictures per batch', number('--batch-size', true), 8)
    .option('--valid-pct <share>', 'share of pictures held out', number('--valid-pct'), 0.2)
    .option('--valid-regex <regex>', 'pictures whose file name matches are the validation set')
    .option('--crop <pixels>', 'train on random squares of this side, a new one every epoch (validation on whole pictures)', number('--crop', true))
    .option('--average', 'average the weights over the second half of training and keep the average', false)
    .option('--validate-every <n>', 'validate every n-th epoch and the last only', number('--validate-every', true))
    .option('--seed <n>', 'random seed', number('--seed', true), 42)
    .option('--out <dir>', 'where the model, its kindling.json and the pictures go', 'runs/segment')
    .option('--checkpoint <file>', 'save the training state here after every epoch (with its settings beside it, in <file>.plan.json)')
    .option('--resume', 'continue the run saved in --checkpoint (same settings) instead of starting over', false)
    .action(async (images: string | undefined, masks: string | undefined, options) => {
      exitWhenNoBetter(await trainSegment(images, masks, options));
    });

  train
    .command('tabular')
    .description('train a model that predicts one column of a table (default: a generated income table)')
    .argument('[file]', 'a CSV (or TSV) file, with a header row unless --names is given')
    .option('--target <column>', 'the column to predict (default for the generated table: income)')
    .option('--names <names>', 'column names, comma separated, for a file without a header row')
    .option('--delimiter <char>', 'field delimiter (default: tab for .tsv, else comma)')
    .option('--cat <columns>', 'columns to treat as categories, comma separated (others are inferred)')
    .option('--cont <columns>', 'columns to treat as continuous numbers')
    .option('--date <columns>', 'date columns, split into year, month, day, weekday, …')
    .option('--ignore <columns>', 'columns to leave out (ids, leaks)')
    .option('--task <task>', 'classification or regression (default: inferred from the target)')
    .option('--test <file>', 'a test file with the same columns, scored once after training')
    .option('--layers <sizes>', 'hidden layer widths, comma separated', '200,100')
    .option('--dropout <rate>', 'dropout after each hidden layer (default auto: 0.5 under 5,000 training rows, else 0.1)', rateOrAuto('--dropout'), 'auto')
    .option('--linear', 'add a linear path from the features to the output beside the hidden layers (wide and deep)', false)
    .option('--epochs <n>', 'epochs to train (default auto: enough for 200 steps, 5–100 epochs)', numberOrAuto('--epochs'), 'auto')
    .option('--lr <rate>', 'maximum learning rate of the one-cycle schedule', number('--lr'), 1e-2)
    .option('--wd <decay>', 'weight decay', number('--wd'), 0.1)
    .option('--batch-size <n>', 'rows per batch (default auto: about 32 batches an epoch, 16–256 rows)', numberOrAuto('--batch-size'), 'auto')
    .option('--valid-pct <share>', 'share of rows held out for validation', number('--valid-pct'), 0.2)
    .option('--seed <n>', 'random seed', number('--seed', true), 42)
    .option('--out <dir>', 'where the model and its kindling.json go', 'runs/tabular')
    .option('--checkpoint <file>', 'save the training state here after every epoch (with its settings beside it, in <file>.plan.json)')
    .option('--resume', 'continue the run saved in --checkpoint (same settings) instead of starting over', false)
    .action(async (file: string | undefined, options) => {
      exitWhenNoBetter(await trainTabular(file, options));
    });

  program
    .command('predict')
    .description("predict with a trained bundle (a folder written by `kindling train`): pictures, WAV files, pointer recordings, a CSV of rows, or inline JSON")
    .argument('<bundle>', 'the bundle folder (kindling.json, model.json, weights.bin)')
    .argument('<inputs...>', 'files, or JSON such as \'{"user": "1", "item": "50"}\'')
    .option('--json', 'one JSON object per line', false)
    .option('--out <dir>', 'segmentation: write each mask as a coloured PNG here')
    .action(async (bundle: string, inputs: string[], options) => {
      await predict(bundle, inputs, options);
    });

  program
    .command('serve')
    .description('serve a trained bundle over HTTP: GET /health, GET /info, POST /predict (JSON, a file body, or multipart files)')
    .argument('<bundle>', 'the bundle folder (kindling.json, model.json, weights.bin)')
    .option('--port <n>', 'port to listen on', number('--port', true), 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--body-limit <bytes>', 'largest request body', number('--body-limit', true), 10 * 1024 * 1024)
    .option('--no-batching', 'one model call per request instead of batching concurrent requests')
    .option('--max-batch <n>', 'most inputs in one batched model call', number('--max-batch', true), 32)
    .option('--max-concurrent <n>', 'requests decoded and preprocessed at once (default 4)', number('--max-concurrent', true))
    .option('--max-queue <n>', 'predictions waiting beyond those; more are answered 503 with Retry-After', number('--max-queue', true), 64)
    .option('--headers-timeout <ms>', "time to receive a request's headers", number('--headers-timeout', true), 10_000)
    .option('--request-timeout <ms>', 'time to receive a whole request', number('--request-timeout', true), 30_000)
    .option('--shutdown-timeout <ms>', 'on SIGTERM/SIGINT, how long requests in flight may finish before their connections are closed', number('--shutdown-timeout', true), 10_000)
    .option('--token <secret>', 'require Authorization: Bearer <secret> on /predict, /info and /metrics (or set KINDLING_TOKEN)')
    .option('--rate-limit <n>', 'at most n /predict requests a minute from one address (then 429 with Retry-After)', number('--rate-limit', true))
    .option('--cors <origins>', "web pages allowed to call the server, comma separated (e.g. https://app.example), or '*'")
    .action(async (bundle: string, options) => {
      await serveBundle(bundle, options);
    });

  /** The flags every command shares: which backend runs, on how many threads, on which GPU. */
  for (const command of [...train.commands, ...program.commands.filter((command) => command !== train)]) {
    command
      .option('--backend <name>', 'tensorflow, torch, webgpu, wasm, cpu or auto', 'auto')
      .option('--threads <n>', 'threads for the torch and wasm backends (default: one per core, at most 8)', number('--threads', true))
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
