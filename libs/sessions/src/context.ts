import type { SessionDeciderConfig } from './config';
import * as energyModule from './energy';
import type { EnergyChunkCache } from './energy';
import type { SessionEndedPayload } from './events';
import * as idsModule from './ids';
import * as kernel from '@csms/kernel';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { energyChunkCache } = energyModule;
const { transactionKeyReader } = idsModule;
const { epochMsOf } = kernel;

/**
 * What the rules read besides the state and the command: the configuration, and the caches that keep the
 * decider fast. `sessionDecider(config)` creates one and closes over it; nothing in it is state (a fresh one
 * gives the same results, only slower), and nothing is shared between deciders.
 */
export interface DeciderContext {
  cfg: SessionDeciderConfig;
  /** cfg.earliestPlausibleTime in epoch ms */
  earliestPlausibleMs: number;
  /** epoch ms of an instant (remembers the last one read) */
  ms: (iso: string) => number;
  /** the `byTransaction` key of a transaction (remembers the last one built) */
  transactionKey: (stationId: string, transactionId: string) => string;
  /** what a revision compares, per session.ended payload (a payload stays in the state while its session is kept) */
  endedDigests: WeakMap<SessionEndedPayload, string>;
  /** the registers of each chunk of readings, parsed once */
  energyChunks: EnergyChunkCache;
}

export function deciderContext(cfg: SessionDeciderConfig): DeciderContext {
  return {
    cfg,
    earliestPlausibleMs: epochMsOf(cfg.earliestPlausibleTime),
    ms: instantReader(),
    transactionKey: transactionKeyReader(),
    endedDigests: new WeakMap(),
    energyChunks: energyChunkCache(),
  };
}

/** epochMsOf that remembers the last instant read (a fact's time is read several times in a row). */
export function instantReader(): (iso: string) => number {
  let lastIso = '';
  let lastMs = 0;
  return (iso) => {
    if (iso !== lastIso) {
      lastMs = epochMsOf(iso);
      lastIso = iso;
    }
    return lastMs;
  };
}
