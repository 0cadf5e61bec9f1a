import type { OcpiTariffDocument } from '@csms/contracts';

/** The tariff service's answer to `GET /api/v1/tariff-assignments/resolve`. */
export interface ResolvedTariff {
  stationId: string;
  evseId: number;
  stationKnown: boolean;
  /** null: the registry lists no EVSEs for the station */
  evseKnown: boolean | null;
  level: string;
  tariffId: string;
  version: number;
  tariff: OcpiTariffDocument;
}

export type TariffLookup =
  { kind: 'found'; tariff: ResolvedTariff } | { kind: 'none' } | { kind: 'unavailable'; reason: string };

/**
 * Reads the tariff an EVSE prices a contract-less session with from the tariff service's public API (the payment
 * service keeps no tariff catalogue of its own). A 404 is "no tariff / unknown EVSE"; anything else that is not a
 * 200 is "unavailable" (the page says so, nothing is paid).
 */
export class TariffClient {
  constructor(private readonly opts: { url: string; apiKey?: string; timeoutMs?: number }) {}

  get configured(): boolean {
    return this.opts.apiKey !== undefined;
  }

  async resolve(stationId: string, evseId: number): Promise<TariffLookup> {
    if (!this.opts.apiKey) return { kind: 'unavailable', reason: 'TARIFF_API_KEY is not set' };
    const url = new URL('/api/v1/tariff-assignments/resolve', this.opts.url);
    url.searchParams.set('stationId', stationId);
    url.searchParams.set('evseId', String(evseId));
    let r: Response;
    try {
      r = await fetch(url, {
        headers: { authorization: `Bearer ${this.opts.apiKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
    } catch (e) {
      return { kind: 'unavailable', reason: (e as Error).message };
    }
    if (r.status === 404 || r.status === 400) {
      await r.body?.cancel();
      return { kind: 'none' };
    }
    if (r.status !== 200) {
      await r.body?.cancel();
      return { kind: 'unavailable', reason: `tariff service answered ${r.status}` };
    }
    const t = (await r.json()) as ResolvedTariff;
    if (!t.stationKnown || t.evseKnown === false) return { kind: 'none' };
    return { kind: 'found', tariff: t };
  }
}
