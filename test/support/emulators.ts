import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync } from 'node:fs';
import { freePort } from './free-port.js';

/*
 * The Google Cloud emulators for contract and end-to-end tests. Each runs in its own process group (the
 * scripts start a JVM that outlives a killed wrapper), on a free port, and is stopped with its whole group.
 * Three things make sure none outlives the test process: stop() in afterAll, an 'exit' handler, and a
 * watchdog in the group that kills it when the test process's pipe closes (even after a SIGKILL).
 */

const SDK = '/usr/lib/google-cloud-sdk/platform';
export const FIRESTORE_EMULATOR = `${SDK}/cloud-firestore-emulator/cloud_firestore_emulator`;
export const PUBSUB_EMULATOR = `${SDK}/pubsub-emulator/bin/cloud-pubsub-emulator`;
export const EMULATOR_PROJECT = 'warden-test';

export const INSTALL_HINT =
  'apt-get install google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator openjdk-17-jre-headless ' +
  '(from the Google Cloud SDK apt repository), or: gcloud components install cloud-firestore-emulator pubsub-emulator';

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface RunningEmulator {
  /** host:port, as FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST and the clients' options expect. */
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** true, or why the emulator cannot run here. */
export type Availability = true | string;

let javaCheck: Availability | undefined;
function javaAvailable(): Availability {
  if (javaCheck === undefined) {
    // The scripts run ${JAVA:-java}.
    const java = process.env['JAVA'] ?? 'java';
    const r = spawnSync(java, ['-version'], { stdio: 'ignore', timeout: 15_000 });
    javaCheck =
      r.status === 0 ? true : `'${java} -version' failed (${r.error?.message ?? `exit ${r.status}`})`;
  }
  return javaCheck;
}

function executable(path: string): Availability {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return `${path} is missing or not executable`;
  }
}

export function emulatorAvailability(): { firestore: Availability; pubsub: Availability } {
  const java = javaAvailable();
  const both = (script: string): Availability => {
    const file = executable(script);
    return file !== true ? file : java;
  };
  return { firestore: both(FIRESTORE_EMULATOR), pubsub: both(PUBSUB_EMULATOR) };
}

// Process groups started and not yet stopped: the 'exit' backstop kills them.
const running = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of running) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Does any live (non-zombie) process remain in the group? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  try {
    // Killed members may linger as zombies until reaped by init: those do not count.
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
    }
    return false;
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/**
 * The group's watchdog: the emulator runs in the background; a reader of our stdin (kept on fd 3, as a
 * background job's stdin is /dev/null) kills the group when the test process closes the pipe or dies.
 */
const WATCHDOG = `exec 3<&0
"$@" </dev/null 3<&- &
emulator=$!
{ cat <&3 >/dev/null; kill -s TERM 0; } &
wait "$emulator"`;

async function startEmulator(
  name: string,
  script: string,
  args: (port: number) => string[],
): Promise<RunningEmulator> {
  const available = executable(script) === true ? javaAvailable() : executable(script);
  if (available !== true)
    throw new Error(`${name} emulator not available: ${available}. Install: ${INSTALL_HINT}`);
  installExitHook();
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn('/bin/sh', ['-c', WATCHDOG, `warden-${name}-emulator`, script, ...args(port)], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`${name} emulator did not start`);
  running.add(pgid);

  // The last output, for the error message when it fails to start; reading also keeps the pipes flowing.
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-16_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: string | undefined;
  child.on('exit', (code, signal) => {
    exit = signal ? `killed by ${signal}` : `exited with ${code}`;
  });
  // Nothing here keeps the test process alive: a forgotten stop() is caught by the exit hook.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr])
    (stream as unknown as { unref(): void }).unref();

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      child.stdin.end();
      try {
        process.kill(-pgid, 'SIGTERM');
      } catch {
        // already gone
      }
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      let killed = false;
      // Bounded polling of an external process group.
      while (groupAlive(pgid)) {
        if (Date.now() > deadline) throw new Error(`${name} emulator (process group ${pgid}) did not stop`);
        if (!killed && Date.now() > deadline - STOP_TIMEOUT_MS / 2) {
          killed = true;
          try {
            process.kill(-pgid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      running.delete(pgid);
    })();
    return stopped;
  };

  const started = Date.now();
  for (;;) {
    if (exit) {
      await stop();
      throw new Error(`${name} emulator ${exit} before it was ready:\n${output}`);
    }
    try {
      const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > READY_TIMEOUT_MS) {
      await stop();
      throw new Error(`${name} emulator not ready after ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { host, port, stop };
}

export function startFirestoreEmulator(): Promise<RunningEmulator> {
  return startEmulator('firestore', FIRESTORE_EMULATOR, (port) => [
    'start',
    '--host=127.0.0.1',
    `--port=${port}`,
  ]);
}

export function startPubSubEmulator(): Promise<RunningEmulator> {
  return startEmulator('pubsub', PUBSUB_EMULATOR, (port) => ['--host=127.0.0.1', `--port=${port}`]);
}

/** Deletes every document of a project in the Firestore emulator. */
export async function wipeFirestoreEmulator(host: string, projectId = EMULATOR_PROJECT): Promise<void> {
  const res = await fetch(`http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`, {
    method: 'DELETE',
  });
  if (!res.ok) throw new Error(`wiping the Firestore emulator failed: ${res.status} ${await res.text()}`);
}
