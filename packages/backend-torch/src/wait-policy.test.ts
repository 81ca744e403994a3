import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { torchSkipReason } from './test-support';

const reason = torchSkipReason('wait policy tests', 1);
const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** What libgomp says its wait policy is (`OMP_DISPLAY_ENV`) when a fresh process loads the addon with `env`. */
function policyWith(env: Record<string, string>): { policy: string | undefined; inherited: string } {
  const source = `const { registerTorchBackend } = await import(${JSON.stringify(entry)}); registerTorchBackend({ threads: 2 }); console.log('after load: ' + (process.env.OMP_WAIT_POLICY ?? 'unset'));`;
  const { OMP_WAIT_POLICY: _policy, GOMP_SPINCOUNT: _spin, ...rest } = process.env;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', source], { env: { ...rest, OMP_DISPLAY_ENV: 'TRUE', ...env }, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return {
    policy: /OMP_WAIT_POLICY = '(\w+)'/.exec(result.stderr)?.[1],
    inherited: /after load: (\w+)/.exec(result.stdout)?.[1] ?? '',
  };
}

describe.skipIf(reason !== undefined)("libtorch's OpenMP threads wait without spinning", () => {
  it('sleeps at barriers by default (a spinning thread steals the core its peer waits for on a busy machine), and leaves the environment as it was', () => {
    expect(policyWith({})).toEqual({ policy: 'PASSIVE', inherited: 'unset' });
  });

  it("keeps the user's choice", () => {
    expect(policyWith({ OMP_WAIT_POLICY: 'ACTIVE' })).toEqual({ policy: 'ACTIVE', inherited: 'ACTIVE' });
  });
});
