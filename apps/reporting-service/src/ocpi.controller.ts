import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import type { EventCatalogue } from '@csms/contracts';
import type { OutboxRelay } from '@csms/messaging';
import { access, ocpiHttpStatus, tokenPartyKey } from '@csms/ocpi';
import { Public } from '@csms/service-kit';
import { OcpiError, parseOcpiDateTime, sendOcpi, type OcpiParty } from './ocpi';
import type { OcpiPartyClient } from './ocpi-party-client';
import { ocpiCallerOf } from './ocpi-parties';

export const OCPI_DEPS = Symbol('OCPI_DEPS');
export interface OcpiDeps {
  /** the configured tokens (OCPI_TOKENS): hub-like, they see every CDR */
  parties: readonly OcpiParty[];
  maxLimit: number;
  now: () => Date;
  catalogue: EventCatalogue;
  relay: OutboxRelay;
  /** calls a registering party back (its versions and version details) */
  partyClient: OcpiPartyClient;
  /** this CPO's OCPI base URL (OCPI_BASE_URL); undefined: the request's own */
  baseUrl: string | undefined;
  /** our CredentialsRole: CPO with these (CPO_COUNTRY_CODE, CPO_PARTY_ID, CPO_BUSINESS_NAME) */
  cpo: { countryCode: string; partyId: string; businessName: string };
}

/** The OCPI 2.2.1 path of the CDRs sender interface (outside /api/v1). */
export const OCPI_CDRS_PATH = 'ocpi/2.2.1/cdrs';

const PARAMS = new Set(['date_from', 'date_to', 'offset', 'limit']);

/**
 * OCPI 2.2.1 CDRs module, sender interface (the CPO side an eMSP or a hub pulls from): `GET` with `date_from`
 * (inclusive) and `date_to` (exclusive) on `last_updated` (a CDR's creation: it is never updated), `offset` and
 * `limit`, ordered by `last_updated` then id; credit CDRs included. Answers in the OCPI response envelope
 * (`data`, `status_code` 1000, `status_message`, `timestamp`) with the pagination headers `X-Total-Count`,
 * `X-Limit` (the page size used: the asked limit, at most the server's maximum) and `Link: <...>; rel="next"`
 * while there is a next page. Authentication is OCPI's (`Authorization: Token <base64 token>`), not an API key:
 * 401 without a known token; a bad parameter is status code 2001 (invalid or missing parameters) with HTTP 200, as
 * OCPI 2.2.1 answers a request that reached its layer (libs/ocpi `ocpiHttpStatus`).
 * A party sees what libs/ocpi `cdrAudience` gives it: a hub (or a configured token) every CDR, an eMSP the CDRs
 * of its own tokens (`cdr_token` country code and party id, the indexed `token_party` column).
 */
@ApiTags('ocpi')
@Controller()
export class OcpiCdrsController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(OCPI_DEPS) private readonly deps: OcpiDeps,
  ) {}

  @Get(OCPI_CDRS_PATH)
  @Public()
  @ApiSecurity('ocpi-token')
  @ApiHeader({ name: 'Authorization', required: true, description: 'Token <base64 of the OCPI credentials token>' })
  @ApiOperation({
    summary:
      'OCPI 2.2.1 CDRs, sender interface: the CDRs (and credit CDRs) last updated in [date_from, date_to), paginated',
  })
  @ApiQuery({ name: 'date_from', required: false, example: '2026-11-01T00:00:00Z' })
  @ApiQuery({ name: 'date_to', required: false, example: '2026-12-01T00:00:00Z' })
  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'limit', required: false })
  async cdrs(@Req() req: Request, @Res() res: Response): Promise<void> {
    const timestamp = this.deps.now().toISOString();
    const envelope = (http: number, statusCode: number, message: string, data?: unknown) =>
      sendOcpi(res, timestamp, http, statusCode, message, data);
    try {
      const caller = await ocpiCallerOf(this.ds, req.headers.authorization, this.deps.parties);
      const allowed = access(caller?.kind, 'cdrs');
      if (!allowed.allowed) throw new OcpiError(allowed.http, allowed.statusCode, allowed.message);
      const q = this.query(req);
      const audience = caller!.audience;
      // an eMSP: only the CDRs of its own tokens (`token_party` = 'CC*PID', indexed with the order below)
      const mine = audience.all ? null : audience.parties.map((p) => tokenPartyKey(p.countryCode, p.partyId));
      const where = `where ($1::timestamptz is null or issued_at >= $1) and ($2::timestamptz is null or issued_at < $2)
        and ($3::text[] is null or token_party = any($3::text[]))`;
      const params = [q.from, q.to, mine];
      const [{ n }] = (await this.ds.query(`select count(*)::text as n from finance_cdrs ${where}`, params)) as Array<{
        n: string;
      }>;
      const total = Number(n);
      const rows: Array<{ cdr: unknown }> = await this.ds.query(
        `select cdr from finance_cdrs ${where} order by issued_at, cdr_id collate "C" offset $4 limit $5`,
        [...params, q.offset, q.limit],
      );
      res.setHeader('X-Total-Count', String(total));
      res.setHeader('X-Limit', String(q.limit));
      if (q.offset + rows.length < total) {
        const next = new URLSearchParams();
        if (q.rawFrom !== undefined) next.set('date_from', q.rawFrom);
        if (q.rawTo !== undefined) next.set('date_to', q.rawTo);
        next.set('offset', String(q.offset + rows.length));
        next.set('limit', String(q.limit));
        res.setHeader(
          'Link',
          `<${req.protocol}://${req.get('host') ?? 'localhost'}/${OCPI_CDRS_PATH}?${next.toString()}>; rel="next"`,
        );
      }
      envelope(
        200,
        1000,
        'Success',
        rows.map((r) => r.cdr),
      );
    } catch (e) {
      if (e instanceof OcpiError) envelope(e.http, e.statusCode, e.message);
      else throw e;
    }
  }

  private query(req: Request) {
    const raw = req.query as Record<string, unknown>;
    const one = (name: string): string | undefined => {
      const v = raw[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || v.length > 64 || [...v].some((c) => c.charCodeAt(0) < 32))
        throw new OcpiError(ocpiHttpStatus(2001), 2001, `${name}: one value of at most 64 characters`);
      return v;
    };
    for (const k of Object.keys(raw))
      if (!PARAMS.has(k)) throw new OcpiError(ocpiHttpStatus(2001), 2001, `unknown parameter ${k.slice(0, 64)}`);
    const rawFrom = one('date_from');
    const rawTo = one('date_to');
    const instant = (name: string, v: string | undefined) => {
      if (v === undefined) return null;
      const ms = parseOcpiDateTime(v);
      if (ms === null)
        throw new OcpiError(ocpiHttpStatus(2001), 2001, `${name}: an OCPI DateTime (e.g. 2026-11-01T00:00:00Z)`);
      return new Date(ms).toISOString();
    };
    const integer = (name: string, v: string | undefined, dflt: number, min: number, max: number) => {
      if (v === undefined) return dflt;
      if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max)
        throw new OcpiError(ocpiHttpStatus(2001), 2001, `${name}: an integer from ${min} to ${max}`);
      return Number(v);
    };
    const limit = Math.min(integer('limit', one('limit'), this.deps.maxLimit, 1, 999_999_999), this.deps.maxLimit);
    return {
      rawFrom,
      rawTo,
      from: instant('date_from', rawFrom),
      to: instant('date_to', rawTo),
      offset: integer('offset', one('offset'), 0, 0, 999_999_999),
      limit,
    };
  }
}
