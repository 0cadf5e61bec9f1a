import { v5 as uuidv5 } from 'uuid';

/** Namespace of every name-based id this system derives (a fixed, published constant). */
export const CSMS_NAMESPACE = '6f1d9d3a-5c0e-5b7e-9a53-2a9e3f6c1b10';

/**
 * A deterministic id: UUID v5 of the parts, joined unambiguously. The same source identity always
 * gives the same id, so a replay from offset zero re-emits identical events (docs/architecture.md rule 2).
 */
export function deriveId(kind: string, ...parts: Array<string | number | bigint>): string {
  const name = [kind, ...parts.map((p) => String(p))].map((s) => `${s.length}:${s}`).join('|');
  return uuidv5(name, CSMS_NAMESPACE);
}
