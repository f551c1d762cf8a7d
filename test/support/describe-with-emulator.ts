import { describe } from '@jest/globals';
import { INSTALL_HINT, emulatorAvailability } from './emulators.js';

/**
 * `describe` when the emulator can run, else a skipped describe after a banner nobody can miss. With
 * WARDEN_REQUIRE_EMULATORS=1 a missing emulator fails the suite instead of skipping it.
 */
export function describeWithEmulator(
  kind: 'firestore' | 'pubsub',
): (name: string, suite: () => void) => void {
  const availability = emulatorAvailability()[kind];
  if (availability === true) return describe;
  const line = '!'.repeat(100);
  // Straight to stderr: jest does not show console.warn output of a file whose tests were all skipped.
  process.stderr.write(
    [
      line,
      `!!! ${kind.toUpperCase()} EMULATOR NOT AVAILABLE: ${availability}`,
      `!!! The ${kind} contract tests are SKIPPED, not passed.`,
      `!!! Install: ${INSTALL_HINT}`,
      line,
    ].join('\n') + '\n',
  );
  if (process.env['WARDEN_REQUIRE_EMULATORS'] === '1') return describe;
  const describeIf = describe.skip;
  return describeIf;
}
