import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@csms/platform';

/**
 * Several gateway processes behind one OCPP port (GATEWAY_WORKERS > 1), with node:cluster: the primary
 * accepts connections and hands each to a worker; every worker is a whole gateway instance (its own Kafka
 * producer, registry cache, command consumer and presence rows), named `<GATEWAY_INSTANCE>-w<slot>`, so a
 * command reaches a station whichever worker holds it, exactly as across machines. Why: one process can hold
 * no more sockets than its open-files limit (20,000 here, and it cannot be raised), and one process uses one
 * core for its JavaScript.
 *
 * Worker 0 starts first (it runs the migrations); the others follow once it is ready. A worker that dies is
 * started again in its slot after a second (its presence rows are cleared by its successor). SIGTERM/SIGINT
 * to the primary stop every worker gracefully (stations get 1001 Going Away, queued records are flushed),
 * then the primary exits 0, or 1 if a worker did not stop cleanly.
 */
export function runGatewayPrimary(workers: number, baseInstance: string, logger: Logger): void {
  const slots = new Map<number, Worker>();
  let stopping = false;
  let unclean = false;
  const memo = passwordMemoSharing();

  const fork = (slot: number): Promise<void> =>
    new Promise((resolve) => {
      const w = cluster.fork({
        GATEWAY_INSTANCE: `${baseInstance}-w${slot}`,
        GATEWAY_WORKER_SLOT: String(slot),
        ...memo.env,
      });
      slots.set(slot, w);
      memo.relay(w, () => slots.values());
      // not `once`: a worker may share a verified password (see passwordMemoSharing) before it reports ready
      const ready = (m: { ready?: boolean }) => {
        if (!m?.ready) return;
        w.off('message', ready);
        resolve();
      };
      w.on('message', ready);
      w.once('exit', (code, signal) => {
        resolve();
        if (slots.get(slot) === w) slots.delete(slot);
        if (stopping) {
          if (code !== 0) unclean = true;
          if (slots.size === 0) process.exit(unclean ? 1 : 0);
          return;
        }
        logger.error({ slot, code, signal }, 'gateway worker died; starting it again');
        setTimeout(() => void fork(slot), 1000);
      });
    });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: slots.size }, 'stopping every gateway worker');
    if (slots.size === 0) process.exit(0);
    for (const w of slots.values()) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  void (async () => {
    await fork(0);
    await Promise.all(Array.from({ length: workers - 1 }, (_, i) => fork(i + 1)));
    logger.info({ workers }, 'every gateway worker is ready');
  })();
}

/** The environment variable that carries the key of the workers' shared password memo (set by the primary). */
export const PASSWORD_MEMO_KEY_ENV = 'GATEWAY_PASSWORD_MEMO_KEY';

/**
 * The primary's part of the workers' shared password memo (see `PasswordVerifier`): a key drawn at random for
 * this run of the gateway, given to every worker it forks, and a relay that passes each verification a worker
 * made (a station id, its stored hash and an HMAC under that key: no password) to the other workers.
 */
export function passwordMemoSharing(): {
  env: Record<string, string>;
  relay(w: Worker, all: () => Iterable<Worker>): void;
} {
  const key = randomBytes(32).toString('base64');
  return {
    env: { [PASSWORD_MEMO_KEY_ENV]: key },
    relay: (w, all) =>
      w.on('message', (m: { passwordVerified?: unknown }) => {
        if (m?.passwordVerified === undefined) return;
        for (const other of all()) if (other !== w && other.isConnected()) other.send(m);
      }),
  };
}

/** In a worker: tells the primary this instance is ready (it holds its ports and caches). */
export function reportWorkerReady(): void {
  if (cluster.isWorker) process.send?.({ ready: true });
}

export const isClusterPrimary = (workers: number) => workers > 1 && cluster.isPrimary;
