import { fastUuidV5, uuidNamespace } from '@csms/kernel';

/** Namespace of every name-based id this system derives (a fixed, published constant). */
export const CSMS_NAMESPACE = '6f1d9d3a-5c0e-5b7e-9a53-2a9e3f6c1b10';
const NAMESPACE_BYTES = uuidNamespace(CSMS_NAMESPACE);

/**
 * A deterministic id: UUID v5 of the parts, joined unambiguously. The same source identity always
 * gives the same id, so a replay from offset zero re-emits identical events (docs/architecture.md rule 2).
 */
export function deriveId(kind: string, ...parts: Array<string | number | bigint>): string {
  let name = `${kind.length}:${kind}`;
  for (const p of parts) {
    const s = String(p);
    name += `|${s.length}:${s}`;
  }
  return fastUuidV5(name, NAMESPACE_BYTES);
}
