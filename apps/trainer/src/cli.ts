import { reportFailure, runKindling } from './program';

// `--debug` anywhere (or KINDLING_DEBUG=1): errors come with their stack; otherwise one line naming the file, row or flag
const arguments_ = process.argv.slice(2);
const debug = arguments_.includes('--debug') || ['1', 'true'].includes(process.env.KINDLING_DEBUG ?? '');
// output piped into a command that stops reading (`kindling --help | head`) ends the run quietly
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
// an error escaping from a stream or a timer is still one line, and still a failure
process.on('uncaughtException', (error) => {
  reportFailure(error, debug);
  process.exit(1);
});
process.exitCode = await runKindling(arguments_, { debug });
