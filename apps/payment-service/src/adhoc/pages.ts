/**
 * The driver's pages of the ad-hoc (QR) payment: plain HTML with a little CSS, no script. Every value is escaped.
 * Elements the tests read carry ids (`#status[data-status]`, `#hold`, `#total`, `#energy`, `#start`, `#end`).
 */
import type { TariffLine } from '@csms/payments';

export const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1b1f23}
main{max-width:34rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
section{background:#fff;border-radius:.6rem;padding:1rem 1.1rem;margin:0 0 1rem;box-shadow:0 1px 2px #0002}
ul{padding-left:1.1rem;margin:.25rem 0}li{margin:.3rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.35rem 1rem;margin:0}dt{color:#57606a}dd{margin:0;font-weight:600}
button,.button{display:inline-block;font-size:1.1rem;padding:.75rem 1.4rem;border:0;border-radius:.5rem;background:#0a7c3a;color:#fff;text-decoration:none;cursor:pointer}
.muted{color:#57606a;font-size:.9rem}.warn{color:#9a3412}
.status{font-size:1.15rem;font-weight:600}
`;

function page(title: string, body: string, opts: { refreshS?: number } = {}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${opts.refreshS ? `<meta http-equiv="refresh" content="${opts.refreshS}">` : ''}
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>
${body}
</main></body></html>
`;
}

export interface StartPageInput {
  stationId: string;
  evseId: number;
  tariffLines: TariffLine[];
  tariffId: string;
  currency: string;
  /** the hold in words (holdInWords) and as an amount */
  holdText: string;
  holdAmount: string;
  /** where the form posts (with the attempt id) */
  action: string;
  /** the driver's last payment on this EVSE (a cookie), if any */
  lastPaymentUrl: string | null;
  qrSvgUrl: string;
  qrPngUrl: string;
}

/** The start page: the tariff in plain words, the hold, one button to the PSP's hosted page. */
export function startPage(i: StartPageInput): string {
  return page(
    `Charge at ${i.stationId} · ${i.evseId}`,
    `<h1>Charge at ${esc(i.stationId)} · charging point ${i.evseId}</h1>
${
  i.lastPaymentUrl
    ? `<section><p><a id="last-payment" href="${esc(i.lastPaymentUrl)}">Your payment on this charger: status and receipt</a></p></section>`
    : ''
}
<section>
<h2>Price</h2>
<ul id="tariff">
${i.tariffLines.map((l) => `<li data-kind="${esc(l.kind)}">${esc(l.text)}</li>`).join('\n')}
</ul>
<p class="muted">Tariff ${esc(i.tariffId)}, prices in ${esc(i.currency)}.</p>
</section>
<section>
<h2>Payment</h2>
<p id="hold" data-amount="${esc(i.holdAmount)}">${esc(i.holdText)}</p>
<form method="post" action="${esc(i.action)}">
<button type="submit" id="pay">Pay by card and start charging</button>
</form>
<p class="muted">No account or app needed. You pay on our payment provider's secure page.</p>
</section>
<p class="muted">QR code of this page: <a href="${esc(i.qrSvgUrl)}">SVG</a> · <a href="${esc(i.qrPngUrl)}">PNG</a></p>`,
  );
}

export type PaymentStage =
  /** the hosted page is open, the payer has not finished */
  | 'awaiting_payment'
  /** declined or abandoned: nothing held */
  | 'payment_failed'
  /** held; the station is being started */
  | 'starting'
  /** a session took the hold */
  | 'charging'
  /** the CDR is in: the receipt (captured or being captured) */
  | 'completed'
  /** the station never started (or refused): the hold was released */
  | 'not_started';

export interface StatusPageInput {
  stationId: string;
  evseId: number;
  stage: PaymentStage;
  currency: string;
  holdAmount: string;
  checkoutUrl: string | null;
  startUrl: string;
  receipt: {
    cdrId: string;
    totalInclVat: string;
    totalExclVat: string;
    vat: string;
    energyKwh: string;
    start: string;
    end: string;
    captured: string | null;
  } | null;
}

const STAGE_TEXT: Record<PaymentStage, string> = {
  awaiting_payment: 'Waiting for your payment.',
  payment_failed: 'The payment was not completed. Nothing was charged.',
  starting: 'Payment reserved. Starting the charger: plug in your car if you have not yet.',
  charging: 'Charging.',
  completed: 'Charging finished. Here is your receipt.',
  not_started: 'The charger did not start. Your reservation was released; nothing was charged.',
};

/** The status of one payment, and its receipt once the session's CDR is in. Refreshes itself while in progress. */
export function statusPage(i: StatusPageInput): string {
  const inProgress = i.stage === 'awaiting_payment' || i.stage === 'starting' || i.stage === 'charging';
  const r = i.receipt;
  return page(
    i.stage === 'completed' ? `Receipt · ${i.stationId} · ${i.evseId}` : `Charging at ${i.stationId} · ${i.evseId}`,
    `<h1>${i.stage === 'completed' ? 'Receipt' : 'Your charging session'}</h1>
<section>
<p id="status" class="status" data-status="${i.stage}">${esc(STAGE_TEXT[i.stage])}</p>
<dl>
<dt>Charger</dt><dd>${esc(i.stationId)} · ${i.evseId}</dd>
<dt>Reserved</dt><dd id="hold">${esc(i.holdAmount)} ${esc(i.currency)}</dd>
</dl>
${i.stage === 'awaiting_payment' && i.checkoutUrl ? `<p><a class="button" id="continue" href="${esc(i.checkoutUrl)}">Continue to payment</a></p>` : ''}
${i.stage === 'payment_failed' || i.stage === 'not_started' ? `<p><a id="again" href="${esc(i.startUrl)}">Start again</a></p>` : ''}
</section>
${
  r
    ? `<section id="receipt">
<h2>Receipt</h2>
<dl>
<dt>Energy</dt><dd id="energy">${esc(r.energyKwh)} kWh</dd>
<dt>Started</dt><dd id="start">${esc(r.start)}</dd>
<dt>Ended</dt><dd id="end">${esc(r.end)}</dd>
<dt>Price without VAT</dt><dd id="total-excl">${esc(r.totalExclVat)} ${esc(i.currency)}</dd>
<dt>VAT</dt><dd id="vat">${esc(r.vat)} ${esc(i.currency)}</dd>
<dt>Total</dt><dd id="total">${esc(r.totalInclVat)} ${esc(i.currency)}</dd>
<dt>Charged to your card</dt><dd id="captured">${r.captured === null ? 'being charged' : `${esc(r.captured)} ${esc(i.currency)}`}</dd>
</dl>
<p class="muted">Charging record ${esc(r.cdrId)}. The rest of the reservation is released.</p>
</section>`
    : ''
}
${inProgress ? '<p class="muted">This page updates itself.</p>' : ''}`,
    { refreshS: inProgress ? 3 : undefined },
  );
}

/** An error for a person (the same code and title as the problem a program gets). */
export function errorPage(status: number, code: string, title: string): string {
  return page(
    title,
    `<h1>${esc(title)}</h1><section><p class="warn" id="error" data-code="${esc(code)}">${esc(title)}</p><p class="muted">${status} ${esc(code)}</p></section>`,
  );
}
