import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/**
 * The emulator's state: named collections of JSON objects keyed by id, in memory. With a state file every
 * mutation is appended to it synchronously (one JSON line: collection + the object after the change) before the
 * HTTP response is written, so a process killed at any point (SIGKILL) restarts with every effect it ever
 * answered. Replaying the file keeps the last line per id; a torn last line (killed mid-write) is ignored.
 * The data lives in the OS page cache after the write: that survives a process kill, not a power cut (an
 * emulator does not need more).
 */
export type Collection =
  | 'customers'
  | 'payment_methods'
  | 'payment_intents'
  | 'charges'
  | 'refunds'
  | 'balance_transactions'
  | 'checkout_sessions'
  | 'payouts'
  | 'events'
  | 'deliveries'
  | 'idempotency'
  | 'operations'
  | 'meta';

const COLLECTIONS: Collection[] = [
  'customers',
  'payment_methods',
  'payment_intents',
  'charges',
  'refunds',
  'balance_transactions',
  'checkout_sessions',
  'payouts',
  'events',
  'deliveries',
  'idempotency',
  'operations',
  'meta',
];

export interface Keyed {
  id: string;
}

export class Store {
  private readonly maps = new Map<Collection, Map<string, Keyed>>();
  /** lines replayed from the state file at start (0 without one) */
  readonly replayed: number;

  private fd: number | null = null;
  /** lines put inside `atomically`, written at its end */
  private pending: string[] | null = null;

  constructor(file?: string) {
    for (const c of COLLECTIONS) this.maps.set(c, new Map());
    this.replayed = file ? this.load(file) : 0;
    // one descriptor in append mode: a write per mutation, no open/close each time
    if (file) this.fd = openSync(file, 'a');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private load(file: string): number {
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, '');
      return 0;
    }
    const text = readFileSync(file, 'utf8');
    // a torn last line must not swallow the next record appended after a restart
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(file, '\n');
    const lines = text.split('\n');
    let n = 0;
    for (const line of lines) {
      if (line.length === 0) continue;
      let rec: { c: Collection; o: Keyed };
      try {
        rec = JSON.parse(line) as { c: Collection; o: Keyed };
      } catch {
        continue; // a torn write at the end of the file
      }
      const map = this.maps.get(rec.c);
      if (map && rec.o && typeof rec.o.id === 'string') {
        map.set(rec.o.id, rec.o);
        n++;
      }
    }
    return n;
  }

  get<T extends Keyed>(c: Collection, id: string): T | undefined {
    return this.maps.get(c)!.get(id) as T | undefined;
  }

  all<T extends Keyed>(c: Collection): T[] {
    return [...this.maps.get(c)!.values()] as T[];
  }

  size(c: Collection): number {
    return this.maps.get(c)!.size;
  }

  /** Stores the object (its current state) and journals it before returning (inside `atomically`: at its end). */
  put<T extends Keyed>(c: Collection, o: T): T {
    this.maps.get(c)!.set(o.id, o);
    if (this.fd === null) return o;
    const line = `${JSON.stringify({ c, o })}\n`;
    if (this.pending) this.pending.push(line);
    else writeSync(this.fd, line);
    return o;
  }

  /**
   * Runs `fn` (synchronous) and journals everything it put in one write: a process killed at any point leaves all
   * of it in the journal or none (one write to a file is not torn by a kill; a torn last line is skipped on load).
   * What `fn` put before throwing is journaled too, since it is already in memory. Nested calls join the outer one.
   */
  atomically<T>(fn: () => T): T {
    if (this.pending) return fn();
    this.pending = [];
    try {
      return fn();
    } finally {
      const lines = this.pending;
      this.pending = null;
      if (this.fd !== null && lines.length > 0) writeSync(this.fd, lines.join(''));
    }
  }
}
