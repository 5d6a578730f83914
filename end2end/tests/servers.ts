import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/**
 * Servers a spec starts for itself (with flags the suite's shared server does not have): a
 * Latchkey on a free port with a throw-away SQLite database, or any other process (an OpenID
 * provider, the example SaaS). Each is stopped by `stop()` (call it in `afterAll`).
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(url: string, proc: ChildProcess, log: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`${url}: process exited early:\n${fs.readFileSync(log, 'utf8')}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms:\n${fs.readFileSync(log, 'utf8')}`);
}

/**
 * The suite's environment without what points a Latchkey at the suite's own storage (cluster.sh
 * exports its PostgreSQL URL and pepper): a spec's server keeps its own throw-away database.
 */
export function ownEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['LATCHKEY_DATABASE_URL', 'DATABASE_URL', 'LATCHKEY_PEPPER']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

export interface Started {
  url: string;
  port: number;
  dir: string;
  log: string;
  proc: ChildProcess;
  stop: () => Promise<void>;
}

/** Starts `cmd args` with `env`, logging to a file in a fresh directory, and waits for `probe`. */
export async function startProcess(
  name: string,
  cmd: string,
  args: (port: number, dir: string) => string[],
  probePath: string,
  env: Record<string, string> = {},
  port?: number,
): Promise<Started> {
  port ??= await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lk-${name}-`));
  const log = path.join(dir, `${name}.log`);
  const out = fs.openSync(log, 'a');
  const proc = spawn(cmd, args(port!, dir), {
    env: ownEnv(env),
    stdio: ['ignore', out, out],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(url + probePath, proc, log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, port, dir, log, proc, stop };
}

export interface Latchkey extends Started {
  bin: string;
  dataDir: string;
  /** An operator token with every scope. */
  operatorToken: string;
}

/** A Latchkey of its own (the demo seed, SQLite) with `extra` serve flags. */
export async function startLatchkey(extra: string[] = []): Promise<Latchkey> {
  const bin = process.env.LATCHKEY_BIN;
  const siteRoot = process.env.LATCHKEY_SITE_ROOT;
  if (!bin || !siteRoot) throw new Error('LATCHKEY_BIN and LATCHKEY_SITE_ROOT must be set (end2end/run.sh sets them)');
  const started = await startProcess(
    'latchkey',
    bin,
    (port, dir) => [
      'serve', '--demo', '--addr', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'),
      '--site-root', siteRoot, '--sign-in-per-email', '1000', '--sign-in-per-ip', '10000',
      '--log-format', 'json', ...extra,
    ],
    '/healthz',
  );
  const dataDir = path.join(started.dir, 'data');
  const operatorToken = execFileSync(bin, [
    '--data-dir', dataDir, '--log', 'error', 'operator-token', 'create', '--name', `spec-${started.port}`,
  ], { env: ownEnv() }).toString().split('\n')[0];
  if (!operatorToken.startsWith('lko_')) throw new Error(`operator-token create printed ${operatorToken}`);
  return { ...started, bin, dataDir, operatorToken };
}
