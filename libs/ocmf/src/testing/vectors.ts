// The shared OCMF test vectors (copied into the repository: see ./fixtures/README.md for their sources and licences).
import data from './fixtures/vectors.json';

export interface OcmfVector {
  id: string;
  source: string;
  sourceRef: string;
  ocmf: string;
  ocmfAssembled: boolean;
  publicKey: { value: string; encoding: 'hex' | 'hex-spaced' | 'base64'; format: 'spki-der' | 'raw-xy' };
  curve: string;
  signatureAlgorithm: string | null;
  signatureEncoding: 'hex' | 'base64';
  signatureFormat: 'der' | 'raw-r||s';
  expected: 'valid' | 'invalid';
  reason: 'tampered-payload' | 'tampered-signature' | 'wrong-key' | null;
  readings: Record<string, string>[];
  transaction?: { group: string; role: 'begin' | 'end' | 'begin+end'; context: string | null; TX: string[] };
}

export const VECTORS: readonly OcmfVector[] = data as unknown as OcmfVector[];

export function vector(id: string): OcmfVector {
  const v = VECTORS.find((x) => x.id === id);
  if (!v) throw new Error(`no vector ${id}`);
  return v;
}

/** The vectors' begin/end groups (`transaction.group`), each in begin → end order. */
export function transactionGroups(): Map<string, OcmfVector[]> {
  const groups = new Map<string, OcmfVector[]>();
  for (const v of VECTORS) {
    if (!v.transaction) continue;
    const list = groups.get(v.transaction.group) ?? [];
    list.push(v);
    groups.set(v.transaction.group, list);
  }
  const rank = { begin: 0, 'begin+end': 1, end: 2 } as const;
  for (const list of groups.values()) list.sort((a, b) => rank[a.transaction!.role] - rank[b.transaction!.role]);
  return groups;
}
