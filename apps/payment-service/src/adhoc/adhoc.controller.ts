import { randomUUID } from 'node:crypto';
import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { toBuffer as qrPng, toString as qrString } from 'qrcode';
import { fromMinorUnits, holdInWords, tariffInWords } from '@csms/payments';
import type { Logger } from '@csms/platform';
import { Public } from '@csms/service-kit';
import type { AdhocService } from './adhoc.service';
import { errorPage, startPage, statusPage } from './pages';
import type { TariffClient } from './tariff-client';

export const ADHOC_DEPS = Symbol('payment-service:adhoc');
export interface AdhocDeps {
  service: AdhocService;
  tariffs: TariffClient;
  /** the base URL drivers reach this service at (QR codes, the PSP's return URL) */
  publicUrl: () => string;
  logger: Logger;
}

/** The pages' routes (outside the /api/v1 prefix). */
export const ADHOC_ROUTES = [
  'pay/:stationId/:evseId',
  'pay/:stationId/:evseId/qr.svg',
  'pay/:stationId/:evseId/qr.png',
  'pay/:stationId/:evseId/payments/:paymentId',
];

/** The registry's station id and an EVSE number (1..999,999,999). */
const STATION = /^[A-Za-z0-9._:*+-]{1,48}$/;
const EVSE = /^[1-9][0-9]{0,8}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COOKIE = 'adhoc_payment';

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const wantsHtml = (req: Request) => /text\/html/.test(String(req.headers.accept ?? ''));

/**
 * The public pages of the ad-hoc (QR) payment, on the service's HTTP port without an API key (a driver has none):
 * every EVSE's stable start URL `GET /pay/{stationId}/{evseId}` (the tariff in plain words, the hold, a button),
 * its QR code (`/qr.svg`, `/qr.png`), the checkout (`POST`, with the page's attempt id: a double click is one
 * payment) that sends the driver to the PSP's hosted page, and each payment's status and receipt page
 * (`/payments/{paymentId}`, the PSP's return URL; the start page links it again through a cookie). Errors: an HTML
 * page for a browser (Accept: text/html), else an RFC 9457 problem with a stable code and the field at fault.
 */
@ApiTags('ad-hoc payment (public)')
@Controller('pay')
export class AdhocController {
  constructor(@Inject(ADHOC_DEPS) private readonly deps: AdhocDeps) {}

  private params(req: Request): { stationId: string; evseId: number } {
    const { stationId, evseId } = req.params as Record<string, string>;
    if (!STATION.test(stationId ?? ''))
      throw new PageError(400, 'PAY_INVALID_STATION', 'not a charging station id', 'path/stationId');
    if (!EVSE.test(evseId ?? ''))
      throw new PageError(400, 'PAY_INVALID_EVSE', 'not a charging point number', 'path/evseId');
    return { stationId, evseId: Number(evseId) };
  }

  private noQuery(req: Request, allowed: string[] = []): void {
    for (const k of Object.keys(req.query))
      if (!allowed.includes(k))
        throw new PageError(400, 'PAY_UNKNOWN_PARAMETER', `unknown parameter ${k}`, `query/${k}`);
  }

  private fail(req: Request, res: Response, e: unknown): void {
    const err =
      e instanceof PageError
        ? e
        : new PageError(503, 'PAY_UNAVAILABLE', 'ad-hoc payment is not available right now; please try again');
    if (!(e instanceof PageError)) this.deps.logger.warn({ err: e }, 'ad-hoc page failed');
    res.status(err.status).setHeader('cache-control', 'no-store');
    if (wantsHtml(req)) {
      res.type('text/html; charset=utf-8').send(errorPage(err.status, err.code, err.message));
      return;
    }
    res.type('application/problem+json').send(
      JSON.stringify({
        type: 'about:blank',
        title: err.message,
        status: err.status,
        code: err.code,
        ...(err.field ? { field: err.field } : {}),
        requestId: res.getHeader('x-request-id'),
      }),
    );
  }

  private url(path: string): string {
    return `${this.deps.publicUrl().replace(/\/+$/, '')}${path}`;
  }

  private async tariffOf(stationId: string, evseId: number) {
    const t = await this.deps.tariffs.resolve(stationId, evseId);
    if (t.kind === 'none')
      throw new PageError(
        404,
        'PAY_EVSE_UNKNOWN',
        `no charging point ${evseId} at ${stationId} takes ad-hoc payment`,
        'path/stationId',
      );
    if (t.kind === 'unavailable') throw new Error(`tariff unavailable: ${t.reason}`);
    return t.tariff;
  }

  @Get(':stationId/:evseId')
  @Public()
  @ApiOperation({ summary: 'The start page of an EVSE (HTML): the tariff in plain words, the hold, pay and start' })
  @ApiParam({ name: 'stationId', example: 'CP-001' })
  @ApiParam({ name: 'evseId', example: '1' })
  async start(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const { stationId, evseId } = this.params(req);
      this.noQuery(req);
      const t = await this.tariffOf(stationId, evseId);
      const hold = this.deps.service.holdOf(t.tariff);
      if (!hold)
        throw new PageError(
          404,
          'PAY_CURRENCY_UNSUPPORTED',
          `no ad-hoc payment in ${t.tariff.currency}`,
          'path/stationId',
        );
      const base = `/pay/${encodeURIComponent(stationId)}/${evseId}`;
      const last = cookieOf(req, COOKIE);
      res
        .status(200)
        .setHeader('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(
          startPage({
            stationId,
            evseId,
            tariffLines: tariffInWords(t.tariff),
            tariffId: t.tariffId,
            currency: hold.currency,
            holdText: holdInWords(hold.holdMinor, hold.currency),
            holdAmount: fromMinorUnits(hold.holdMinor, hold.currency),
            // a new attempt per page view: a double click posts the same attempt (one payment)
            action: `${base}?attempt=${randomUUID()}`,
            lastPaymentUrl: last && UUID.test(last) ? `${base}/payments/${last}` : null,
            qrSvgUrl: `${base}/qr.svg`,
            qrPngUrl: `${base}/qr.png`,
          }),
        );
    } catch (e) {
      this.fail(req, res, e);
    }
  }

  @Get(':stationId/:evseId/qr.svg')
  @Public()
  @ApiOperation({ summary: "The QR code of an EVSE's start URL, SVG (to print on the charger)" })
  @ApiParam({ name: 'stationId', example: 'CP-001' })
  @ApiParam({ name: 'evseId', example: '1' })
  async qrSvg(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.qrCode(req, res, 'svg');
  }

  @Get(':stationId/:evseId/qr.png')
  @Public()
  @ApiOperation({ summary: "The QR code of an EVSE's start URL, PNG (512 px)" })
  @ApiParam({ name: 'stationId', example: 'CP-001' })
  @ApiParam({ name: 'evseId', example: '1' })
  async qrPng(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.qrCode(req, res, 'png');
  }

  /** An EVSE's start URL as a QR code; none for a charging point that takes no ad-hoc payment (a misprint would send drivers nowhere). */
  private async qrCode(req: Request, res: Response, format: 'svg' | 'png'): Promise<void> {
    try {
      const { stationId, evseId } = this.params(req);
      this.noQuery(req);
      await this.tariffOf(stationId, evseId);
      const url = this.url(`/pay/${encodeURIComponent(stationId)}/${evseId}`);
      const body =
        format === 'svg'
          ? await qrString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
          : await qrPng(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 512 });
      res
        .status(200)
        .setHeader('cache-control', 'public, max-age=86400')
        .type(format === 'svg' ? 'image/svg+xml' : 'image/png')
        .send(body);
    } catch (e) {
      this.fail(req, res, e);
    }
  }

  @Post(':stationId/:evseId')
  @Public()
  @ApiOperation({
    summary:
      "Pay and start: the start page's form (its `attempt`: the same attempt is the same payment); 303 to the PSP's hosted page, or to the payment's status page",
  })
  @ApiParam({ name: 'stationId', example: 'CP-001' })
  @ApiParam({ name: 'evseId', example: '1' })
  @ApiQuery({ name: 'attempt', required: true, description: 'the UUID the start page put in its form' })
  async checkout(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const { stationId, evseId } = this.params(req);
      this.noQuery(req, ['attempt']);
      const attempt = req.query.attempt;
      if (typeof attempt !== 'string' || !UUID.test(attempt))
        throw new PageError(400, 'PAY_INVALID_ATTEMPT', 'attempt must be the UUID of the start page', 'query/attempt');
      const t = await this.tariffOf(stationId, evseId);
      if (!this.deps.service.holdOf(t.tariff))
        throw new PageError(
          404,
          'PAY_CURRENCY_UNSUPPORTED',
          `no ad-hoc payment in ${t.tariff.currency}`,
          'path/stationId',
        );
      const base = `/pay/${encodeURIComponent(stationId)}/${evseId}`;
      const { paymentId, outcome } = await this.deps.service.checkout(
        { stationId, evseId, attemptId: attempt, tariff: t },
        (id) => this.url(`${base}/payments/${id}`),
      );
      res
        .status(303)
        .setHeader('cache-control', 'no-store')
        .setHeader('set-cookie', `${COOKIE}=${paymentId}; Path=${base}; Max-Age=172800; HttpOnly; SameSite=Lax`)
        .setHeader('location', outcome.kind === 'checkout' ? outcome.url : `${base}/payments/${paymentId}`)
        .end();
    } catch (e) {
      this.fail(req, res, e);
    }
  }

  @Get(':stationId/:evseId/payments/:paymentId')
  @Public()
  @ApiOperation({
    summary: 'A payment: its status while it runs, its receipt (CDR total, energy, times) afterwards (HTML)',
  })
  @ApiParam({ name: 'stationId', example: 'CP-001' })
  @ApiParam({ name: 'evseId', example: '1' })
  @ApiParam({ name: 'paymentId', schema: { type: 'string', format: 'uuid' } })
  async status(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const { stationId, evseId } = this.params(req);
      // the PSP appends nothing to our return URL; Stripe may add its own parameters: ignored
      const paymentId = (req.params as Record<string, string>).paymentId ?? '';
      if (!UUID.test(paymentId)) throw new PageError(400, 'PAY_INVALID_PAYMENT', 'not a payment id', 'path/paymentId');
      const row = await this.deps.service.payment(paymentId);
      if (!row || row.station_id !== stationId || row.evse_id !== evseId)
        throw new PageError(404, 'PAY_PAYMENT_NOT_FOUND', 'no such payment on this charging point', 'path/paymentId');
      const view = await this.deps.service.status(row, `/pay/${encodeURIComponent(stationId)}/${evseId}`);
      res.status(200).setHeader('cache-control', 'no-store').type('text/html; charset=utf-8').send(statusPage(view));
    } catch (e) {
      this.fail(req, res, e);
    }
  }
}

/** One cookie's value from the request's Cookie header (no parser needed for one name). */
export function cookieOf(req: Request, name: string): string | null {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}
