/**
 * The `kindling` command line as a function, for scripts and apps that run it without a shell.
 *
 * @packageDocumentation
 */
export { runKindling, type RunKindlingOptions } from './program';
