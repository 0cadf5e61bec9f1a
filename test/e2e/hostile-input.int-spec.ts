/**
 * Hostile input, end to end: every service as its own process on the real Kafka and PostgreSQL. For EVERY
 * operation each service's /openapi.json lists (so an endpoint written tomorrow joins without a line here), a
 * table of hostile requests is generated: missing, garbage and wrong-role credentials; path parameters with
 * U+0000, 10,000 characters, 36 dashes, unicode, `../`, bad percent-encoding; query parameters with a tampered
 * cursor, U+0000, huge, negative and mistyped limits, instants PostgreSQL or ISO cannot hold; bodies that are
 * not JSON, of another media type or charset, compressed in an unknown or broken way, over the limit, nested
 * 10,000 deep, and, built from the operation's request schema, every field with the wrong type, a huge number,
 * U+0000, a lone surrogate, unicode, 10,000 characters, left out, or next to an unknown field.
 * Asserted for each: status < 500; a 4xx is `application/problem+json` with a stable `code` (and the exact
 * `field` where one field is at fault); a refused write stores nothing (row counts of every table of the
 * service's database); at the end every service is still ready and none logged an error line.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { request as httpRequest } from 'node:http';
import { Client } from 'pg';
import { newApiKey, type ApiRole } from '@csms/service-kit';
import {
  TEST_KAFKA_BROKERS,
  createTestTopics,
  dropTestDatabases,
  freePort,
  startServiceProcess,
  testDatabaseUrl,
  testKafka,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from '@csms/testing';

const keys = {
  admin: newApiKey('hostile-admin', 'admin'),
  operator: newApiKey('hostile-operator', 'operator'),
  finance: newApiKey('hostile-finance', 'finance'),
  integration: newApiKey('hostile-integration', 'integration'),
} as const;
const ROLES: ApiRole[] = ['operator', 'finance', 'integration'];

/**
 * The operations each service has today. The suite attacks whatever the OpenAPI lists; this list only makes
 * sure a broken OpenAPI cannot hollow the suite out (it must list at least these).
 */
const KNOWN: Record<string, string[]> = {
  'ocpp-gateway': [
    'GET /api/v1/stations',
    'GET /api/v1/stations/{stationId}',
    'PUT /api/v1/stations/{stationId}',
    'DELETE /api/v1/stations/{stationId}',
    'GET /api/v1/tokens',
    'GET /api/v1/tokens/{uid}',
    'PUT /api/v1/tokens/{uid}',
    'DELETE /api/v1/tokens/{uid}',
    'POST /api/v1/stations/{stationId}/commands',
    'GET /api/v1/commands/{commandId}',
  ],
  'session-service': [
    'GET /api/v1/sessions',
    'GET /api/v1/sessions/{sessionId}',
    'GET /api/v1/sessions/{sessionId}/sources',
    'GET /api/v1/sessions/{sessionId}/frames',
  ],
  'tariff-service': [
    'GET /api/v1/tariffs',
    'GET /api/v1/tariffs/{tariffId}',
    'PUT /api/v1/tariffs/{tariffId}',
    'GET /api/v1/tariffs/{tariffId}/versions',
    'GET /api/v1/tariffs/{tariffId}/versions/{version}',
    'GET /api/v1/tariff-assignments',
    'POST /api/v1/tariff-assignments',
    'GET /api/v1/tariff-assignments/resolve',
    'GET /api/v1/cdrs',
    'GET /api/v1/cdrs/{cdrId}',
    'GET /api/v1/cdrs/{cdrId}/transparency',
    'GET /api/v1/meter-keys',
    'POST /api/v1/meter-keys',
    'GET /api/v1/signature-policies',
    'POST /api/v1/signature-policies',
    'GET /api/v1/pricing-failures',
    'POST /api/v1/what-if',
  ],
  'reporting-service': [
    'GET /api/v1/stations',
    'GET /api/v1/stations/{stationId}',
    'GET /api/v1/alarms',
    'POST /api/v1/alarms/{alarmId}/acknowledge',
    'GET /api/v1/reports/revenue',
    'GET /api/v1/reports/cdrs',
    'GET /api/v1/reports/utilisation',
    'GET /api/v1/reports/uptime',
    'GET /api/v1/periods',
    'POST /api/v1/periods/{period}/close',
    'POST /api/v1/stations/{stationId}/maintenance',
    'GET /api/v1/reports/payments',
    'POST /api/v1/reconciliation/runs',
    'GET /api/v1/reconciliation/breaks',
    'POST /api/v1/reconciliation/breaks/{breakId}/resolve',
    'POST /api/v1/ocpi/parties',
    'GET /api/v1/ocpi/parties',
    'DELETE /api/v1/ocpi/parties/{registrationId}',
  ],
  'payment-service': [
    'POST /api/v1/accounts',
    'GET /api/v1/accounts',
    'GET /api/v1/accounts/{accountId}',
    'PUT /api/v1/accounts/{accountId}',
    'POST /api/v1/accounts/{accountId}/top-ups',
    'GET /api/v1/accounts/{accountId}/balances',
    'POST /api/v1/accounts/{accountId}/statements',
    'GET /api/v1/accounts/{accountId}/statements',
    'GET /api/v1/ledger/balances',
    'GET /api/v1/ledger/entries',
    'GET /api/v1/sessions/{sessionId}/journal',
    'GET /api/v1/sessions/{sessionId}/payment',
    'GET /api/v1/unbilled-cdrs',
    'GET /api/v1/psp-intents',
    'POST /api/v1/settlements',
    'GET /api/v1/settlements',
  ],
};
/** Attacked in this order: the gateway last, so the registry records its accepted writes publish cannot change another service's tables while that one is counted. */
const SERVICES = ['session-service', 'reporting-service', 'tariff-service', 'payment-service', 'ocpp-gateway'];
const BODY_LIMIT = 1024 * 1024;
const NUL = 'a\u0000b';
const LONE_SURROGATE = 'a\ud800b';
const UNICODE = 'Ünï©ødé 漢字 🙂 \u202e\u200b';
const LONG = 'x'.repeat(10_000);
const DEEP = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const BAD_INSTANTS = ['0000-01-01T00:00:00Z', '2026-01-01T00:00:00+23:59', '2026-12-31T23:59:60Z'];
const TAMPERED_CURSOR = Buffer.from(JSON.stringify(['x', 'y'])).toString('base64url');
/** the OCPI credentials token the reporting service's CDRs sender interface accepts (OCPI 2.2.1: sent Base64-encoded) */
const OCPI_TOKEN = 'hostile-ocpi-token';
const OCPI_AUTH = `Token ${Buffer.from(OCPI_TOKEN).toString('base64')}`;

/**
 * The OCPI 2.2.1 modules (outside /api/v1, not in the OpenAPI walk): versions, version details, credentials and the
 * CDRs sender interface, their own table. Their errors are OCPI response envelopes (`status_code` 2000
 * unauthorised with HTTP 401 or 405; 2001 invalid or missing parameters with HTTP 200, as OCPI 2.2.1 answers a
 * request that reached its layer), not problems; body-parser refusals (not JSON, too large) are problems. `tokenA`: a registration's unspent token A, for the credentials module's POST.
 */
function ocpiHostileTable(tokenA: string): Hostile[] {
  const path = '/ocpi/2.2.1/cdrs';
  const out: Hostile[] = [];
  const unauthorised = { status: 401, code: '2000' };
  const credentials = '/ocpi/2.2.1/credentials';
  for (const [method, p] of [
    ['GET', '/ocpi/versions'],
    ['GET', '/ocpi/2.2.1'],
    ['GET', credentials],
    ['POST', credentials],
    ['PUT', credentials],
    ['DELETE', credentials],
  ] as const)
    for (const [what, authorization] of [
      ['no credential', undefined],
      ['the token not Base64-encoded', `Token ${OCPI_TOKEN}`],
      ['an unknown token', `Token ${Buffer.from('not-the-token').toString('base64')}`],
      ['an API key', `Bearer ${keys.admin.key}`],
      ['Token of 10,000 characters', `Token ${'A'.repeat(10_000)}`],
      ['a token of U+0000', `Token ${Buffer.from('a\u0000b').toString('base64')}`],
    ] as const)
      out.push({
        what: `ocpi: ${method} ${p}: ${what}`,
        method,
        path: p,
        headers: {
          ...(authorization === undefined ? {} : { authorization }),
          ...(method === 'POST' || method === 'PUT' ? { 'content-type': 'application/json' } : {}),
        },
        ...(method === 'POST' || method === 'PUT' ? { body: '{}' } : {}),
        expect: unauthorised,
      });
  const withA = { authorization: `Token ${Buffer.from(tokenA).toString('base64')}` };
  // token A registers and reads the versions, nothing else (OCPI 2.2.1: 405 for PUT/DELETE before registering)
  for (const method of ['GET', 'PUT', 'DELETE'])
    out.push({
      what: `ocpi: credentials ${method} with token A`,
      method,
      path: credentials,
      headers: { ...withA, ...(method === 'PUT' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'PUT' ? { body: '{}' } : {}),
      expect: { status: 405, code: '2000' },
    });
  out.push({ what: 'ocpi: cdrs with token A', method: 'GET', path, headers: withA, expect: unauthorised });
  // the configured token is registered outside OCPI: no POST, PUT, DELETE
  for (const method of ['POST', 'PUT', 'DELETE'])
    out.push({
      what: `ocpi: credentials ${method} with a configured token`,
      method,
      path: credentials,
      headers: { authorization: OCPI_AUTH, 'content-type': 'application/json' },
      ...(method === 'DELETE' ? {} : { body: '{}' }),
      expect: { status: 405, code: '2000' },
    });
  // OCPI 2.2.1: an authenticated request to an existing resource, its body JSON, reached the OCPI layer: no HTTP
  // error status, the envelope's status_code tells what was wrong
  const reachedOcpi = { status: 200, code: '2001' };
  const role = { role: 'EMSP', country_code: 'DE', party_id: 'EMS', business_details: { name: 'Hostile' } };
  const valid = { token: 'hostile-token-b', url: 'http://127.0.0.1:9/ocpi/versions', roles: [role] };
  for (const [what, body] of [
    ['a list', []],
    ['no token', { ...valid, token: undefined }],
    ['a token of 65 characters', { ...valid, token: 'x'.repeat(65) }],
    ['a token with U+0000', { ...valid, token: NUL }],
    ['a token with unicode', { ...valid, token: UNICODE }],
    ['a token of the wrong type', { ...valid, token: 12 }],
    ['a url of 10,000 characters', { ...valid, url: `http://x/${LONG}` }],
    ['a file: url', { ...valid, url: 'file:///etc/passwd' }],
    ['a url with a password', { ...valid, url: 'http://a:b@127.0.0.1/ocpi' }],
    ['a relative url', { ...valid, url: '../versions' }],
    ['no roles', { ...valid, roles: [] }],
    ['roles not a list', { ...valid, roles: role }],
    ['1,000 roles', { ...valid, roles: Array.from({ length: 1_000 }, () => role) }],
    ['a role unknown', { ...valid, roles: [{ ...role, role: 'ROOT' }] }],
    ['a party id of 10,000', { ...valid, roles: [{ ...role, party_id: LONG }] }],
    ['a country code of U+0000', { ...valid, roles: [{ ...role, country_code: 'D\u0000' }] }],
    ['a name with a lone surrogate', { ...valid, roles: [{ ...role, business_details: { name: LONE_SURROGATE } }] }],
    ['a name of 10,000', { ...valid, roles: [{ ...role, business_details: { name: LONG } }] }],
    ['a role twice', { ...valid, roles: [role, role] }],
    ['token B the same as token A', { ...valid, token: tokenA }],
  ] as const)
    out.push({
      what: `ocpi: credentials POST with token A: ${what}`,
      method: 'POST',
      path: credentials,
      headers: { ...withA, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      expect: reachedOcpi,
    });
  for (const [what, type, body] of [
    ['not JSON', 'text/plain', 'token=x'],
    ['broken JSON', 'application/json', '{'],
    ['null (body-parser: an object or a list only)', 'application/json', 'null'],
    ['nested 10,000 deep', 'application/json', DEEP(10_000)],
    ['over the limit', 'application/json', `"${'x'.repeat(BODY_LIMIT + 10)}"`],
  ] as const)
    out.push({
      what: `ocpi: credentials POST with token A: ${what}`,
      method: 'POST',
      path: credentials,
      headers: { ...withA, 'content-type': type },
      body,
    });
  for (const [what, p] of [
    ['an unknown version', '/ocpi/2.1.1'],
    ['a module not offered', '/ocpi/2.2.1/tariffs'],
    ['U+0000', '/ocpi/versions/a%00b'],
    ['../', '/ocpi/2.2.1/credentials/..%2F..%2Fetc%2Fpasswd'],
  ] as const)
    out.push({ what: `ocpi: path ${what}`, method: 'GET', path: p, headers: withA });
  for (const [what, authorization] of [
    ['no credential', undefined],
    ['the token not Base64-encoded (OCPI 2.1.1 style)', `Token ${OCPI_TOKEN}`],
    ['an unknown token', `Token ${Buffer.from('not-the-token').toString('base64')}`],
    ['garbage', 'Token \u00ff\u00fe garbage'],
    ['an API key', `Bearer ${keys.admin.key}`],
    ['basic auth', 'Basic YWRtaW46YWRtaW4='],
    ['Token and nothing', 'Token '],
    ['Token of 10,000 characters', `Token ${'A'.repeat(10_000)}`],
  ] as const)
    out.push({
      what: `ocpi: ${what}`,
      method: 'GET',
      path,
      headers: authorization === undefined ? {} : { authorization },
      expect: unauthorised,
    });
  const auth = { authorization: OCPI_AUTH };
  const invalid = reachedOcpi;
  for (const name of ['date_from', 'date_to', 'offset', 'limit', 'hostile_unknown']) {
    for (const [what, value] of [
      ['U+0000', 'a%00b'],
      ['a lone surrogate (CESU-8)', '%ED%A0%80'],
      ['10,000 characters', LONG],
      ['unicode', encodeURIComponent(UNICODE)],
      ['empty', ''],
      ['huge', '99999999999999999999999'],
      ['1e308', '1e308'],
      ['negative', '-1'],
      ['wrong type', 'true'],
      ['an array', `x&${name}=y`],
      ...BAD_INSTANTS.map((d) => [`instant ${d}`, encodeURIComponent(d)]),
      ['30 February', '2026-02-30T00:00:00Z'],
    ] as const)
      out.push({
        what: `ocpi: ?${name}: ${what}`,
        method: 'GET',
        path: `${path}?${name}=${value}`,
        headers: auth,
        expect: invalid,
      });
    out.push({
      what: `ocpi: ?${name}[a]=1`,
      method: 'GET',
      path: `${path}?${name}[a]=1`,
      headers: auth,
      expect: invalid,
    });
  }
  out.push({ what: 'ocpi: limit 0', method: 'GET', path: `${path}?limit=0`, headers: auth, expect: invalid });
  out.push({
    what: 'ocpi: a page',
    method: 'GET',
    path: `${path}?limit=5&offset=999999`,
    headers: auth,
    expect: { status: 200 },
  });
  for (const [what, p] of [
    ['../', `${path}/..%2F..%2Fetc%2Fpasswd`],
    ['U+0000', `${path}/a%00b`],
    ['a trailing id', `${path}/CDR-1`],
  ] as const)
    out.push({ what: `ocpi: path ${what}`, method: 'GET', path: p, headers: auth });
  out.push({
    what: 'ocpi: POST',
    method: 'POST',
    path,
    headers: { ...auth, 'content-type': 'application/json' },
    body: '{}',
  });
  return out;
}

/**
 * The reporting service's paging and period parameters with answers that are certain: the revenue report's
 * `limit` / `cursor` (JSON pages) and the breaks queue's `from` / `to` (detection time), as finance. Problems with
 * the field at fault.
 */
function financeParamsHostileTable(): Hostile[] {
  const auth = { authorization: `Bearer ${keys.finance.key}` };
  const revenue = '/api/v1/reports/revenue?from=2026-01-01&to=2026-02-01';
  const breaks = '/api/v1/reconciliation/breaks';
  const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
  const bad = (field: string, code?: string) => ({ status: 400, field, ...(code ? { code } : {}) });
  const rows: Array<[string, string, Hostile['expect']]> = [
    ['revenue: limit 0', `${revenue}&limit=0`, bad('query/limit')],
    ['revenue: limit 10,001', `${revenue}&limit=10001`, bad('query/limit')],
    ['revenue: limit negative', `${revenue}&limit=-1`, bad('query/limit')],
    ['revenue: limit 1e308', `${revenue}&limit=1e308`, bad('query/limit')],
    ['revenue: limit huge', `${revenue}&limit=99999999999999999999999`, bad('query/limit')],
    ['revenue: limit U+0000', `${revenue}&limit=a%00b`, bad('query/limit', 'INVALID_CHARACTERS')],
    ['revenue: limit with CSV', `${revenue}&limit=5&format=csv`, bad('query/limit', 'VALIDATION_FAILED')],
    ['revenue: cursor without limit', `${revenue}&cursor=${cursor(['2026-01-01', 'EUR'])}`, bad('query/limit')],
    ['revenue: tampered cursor', `${revenue}&limit=5&cursor=${TAMPERED_CURSOR}`, bad('query/cursor', 'INVALID_CURSOR')],
    [
      'revenue: cursor 31 February',
      `${revenue}&limit=5&cursor=${cursor(['2026-02-31', 'EUR'])}`,
      bad('query/cursor', 'INVALID_CURSOR'),
    ],
    [
      'revenue: cursor of another grouping',
      `${revenue}&limit=5&cursor=${cursor(['2026-01-01', 'EUR', 'x'])}`,
      bad('query/cursor', 'INVALID_CURSOR'),
    ],
    [
      'revenue: cursor tariff version not a number',
      `${revenue}&limit=5&groupBy=tariff&cursor=${cursor(['2026-01-01', 'EUR', 'T1', 'x'])}`,
      bad('query/cursor', 'INVALID_CURSOR'),
    ],
    [
      'revenue: cursor U+0000 in a part',
      `${revenue}&limit=5&groupBy=site&cursor=${cursor(['2026-01-01', 'EUR', 'a\u0000b'])}`,
      bad('query/cursor', 'INVALID_CURSOR'),
    ],
    ['revenue: cursor 10,000 characters', `${revenue}&limit=5&cursor=${LONG}`, bad('query/cursor')],
    ['revenue: a page', `${revenue}&limit=5&cursor=${cursor(['2026-01-01', 'EUR'])}`, { status: 200 }],
    ['breaks: from not an instant', `${breaks}?from=yesterday`, bad('query/from')],
    ['breaks: to month 13', `${breaks}?to=2026-13-01T00:00:00Z`, bad('query/to')],
    ['breaks: from U+0000', `${breaks}?from=a%00b`, bad('query/from', 'INVALID_CHARACTERS')],
    [
      'breaks: to before from',
      `${breaks}?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z`,
      bad('query/to', 'VALIDATION_FAILED'),
    ],
    [
      'breaks: to equal to from',
      `${breaks}?from=2026-03-02T00:00:00Z&to=2026-03-02T00:00:00Z`,
      bad('query/to', 'VALIDATION_FAILED'),
    ],
    ...BAD_INSTANTS.map((d): [string, string, Hostile['expect']] => [
      `breaks: from ${d}`,
      `${breaks}?from=${encodeURIComponent(d)}`,
      bad('query/from'),
    ]),
    ['breaks: status unknown', `${breaks}?status=healed`, bad('query/status')],
    ['breaks: a period', `${breaks}?status=cleared&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`, { status: 200 }],
    ['breaks: a period as CSV', `${breaks}?status=all&from=2026-03-01T00:00:00Z&format=csv`, { status: 200 }],
  ];
  return rows.map(([what, path, expect]) => ({ what, method: 'GET', path, headers: auth, expect }));
}

/**
 * The settlement report uploaded as the PSP's CSV file (`POST /api/v1/settlements`, `Content-Type: text/csv`, the
 * report id and interval in the query): the generic table attacks this endpoint with JSON bodies; this one with
 * files. Each refused with a problem (a 4xx, its code and, for a 400, the field), nothing stored.
 */
function settlementCsvHostileTable(): Hostile[] {
  const auth = { authorization: `Bearer ${keys.finance.key}` };
  const HEADER =
    'balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,payment_intent_id,automatic_payout_id,automatic_payout_effective_at_utc';
  const LINE =
    'txn_h1,2026-03-01 10:00:00,2026-03-01 10:00:00,eur,8.47,0.37,8.10,charge,ch_h1,pi_h1,po_h,2026-03-01 20:00:00';
  const file = (...lines: string[]) => [HEADER, ...lines].join('\r\n') + '\r\n';
  const query = (reportId = 'hostile-rep', end = '2026-03-02T00:00:00Z') =>
    `/api/v1/settlements?reportId=${reportId}&intervalStart=2026-03-01T00:00:00Z&intervalEnd=${end}`;
  const bad = (field: string, code?: string) => ({ status: 400, field, ...(code ? { code } : {}) });
  const rows: Array<[string, string, Buffer | string, Hostile['expect'], string?]> = [
    ['no query', '/api/v1/settlements', file(LINE), bad('query/reportId')],
    ['report id U+0000', query('a%00b'), file(LINE), bad('query/reportId', 'INVALID_CHARACTERS')],
    ['report id 10,000 characters', query(LONG), file(LINE), bad('query/reportId')],
    ['report id twice', `${query()}&reportId=again`, file(LINE), bad('query/reportId')],
    ['interval end month 13', query('hostile-rep', '2026-13-01T00:00:00Z'), file(LINE), bad('query/intervalEnd')],
    ...BAD_INSTANTS.map((d): [string, string, string, Hostile['expect']] => [
      `interval end ${d}`,
      query('hostile-rep', encodeURIComponent(d)),
      file(LINE),
      bad('query/intervalEnd'),
    ]),
    ['an unknown query parameter', `${query()}&hostile_unknown=1`, file(LINE), bad('query/hostile_unknown')],
    ['no header line', query(), `${LINE}\r\n`, { status: 400 }],
    ['the header only', query(), file(), { status: 201 }],
    ['not CSV: binary', query(), Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81, 0x0a]), { status: 400 }],
    [
      'invalid UTF-8 (a lone surrogate, CESU-8)',
      query(),
      Buffer.concat([Buffer.from(file()), Buffer.from([0xed, 0xa0, 0x80])]),
      { status: 400 },
    ],
    ['U+0000 in a field', query(), file(LINE.replace('ch_h1', 'ch\u0000h1')), { status: 400 }],
    ['an unterminated quote', query(), file(`"txn_h1,${LINE.slice(7)}`), { status: 400 }],
    ['a line of 10,000 columns', query(), file(`${LINE}${',x'.repeat(10_000)}`), { status: 400 }],
    ['a field of 10,000 characters', query(), file(LINE.replace('ch_h1', LONG)), { status: 400 }],
    ['an amount of 1e308', query(), file(LINE.replace('8.47', '1e308')), { status: 400 }],
    ['a huge amount', query(), file(LINE.replace(/8\.47/, '99999999999999999999999.00')), { status: 400 }],
    ['a currency of 4 letters', query(), file(LINE.replace(',eur,', ',euro,')), { status: 400 }],
    ['a date 31 February', query(), file(LINE.replace('2026-03-01 10:00:00', '2026-02-31 10:00:00')), { status: 400 }],
    ['a line of 3 columns', query(), file('txn_h1,2026-03-01 10:00:00,eur'), { status: 400 }],
    [
      'charset iso-8859-1',
      query(),
      file(LINE),
      { status: 415, code: 'UNSUPPORTED_CHARSET', field: 'Content-Type' },
      'text/csv; charset=iso-8859-1',
    ],
    ['over 4,000,000 bytes', query(), Buffer.alloc(4_000_001, 'a'), { status: 413, code: 'PAYLOAD_TOO_LARGE' }],
    [
      'text/csv to another endpoint',
      '/api/v1/accounts',
      file(LINE),
      { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', field: 'Content-Type' },
    ],
    ['text/csv to the list (GET)', query(), file(LINE), { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' }, undefined],
  ];
  return rows.map(([what, path, body, expect, type]) => ({
    what,
    method: what.endsWith('(GET)') ? 'GET' : 'POST',
    path,
    headers: { ...auth, 'content-type': type ?? 'text/csv' },
    body,
    expect,
    fieldAtFault: true,
  }));
}

/**
 * The payment service's ad-hoc (QR) payment pages (public, outside /api/v1, not in the OpenAPI walk): their own
 * table. Without `Accept: text/html` their errors are RFC 9457 problems like the API's.
 */
function adhocHostileTable(): Hostile[] {
  const out: Hostile[] = [];
  const PAYMENT = '0b2c7c9e-5f43-4a8e-9d55-3f1f6c3a2b10';
  const ATTEMPT = '5f0c3c1e-9b7a-4d2f-8e61-0a9b8c7d6e5f';
  const stations: Array<[string, string, string?]> = [
    ['U+0000', 'a%00b', 'path/stationId'],
    ['10,000 characters', LONG, 'path/stationId'],
    ['49 characters', 'S'.repeat(49), 'path/stationId'],
    ['../', '..%2F..%2Fetc%2Fpasswd', 'path/stationId'],
    ['unicode', encodeURIComponent(UNICODE), 'path/stationId'],
    ['bad percent-encoding', '%E0%A4%A'],
    ['a lone surrogate (CESU-8)', '%ED%A0%80'],
    ['36 dashes', '-'.repeat(36)],
  ];
  const evses: Array<[string, string, string?]> = [
    ['0', '0', 'path/evseId'],
    ['negative', '-1', 'path/evseId'],
    ['huge', '99999999999999999999', 'path/evseId'],
    ['1e3', '1e3', 'path/evseId'],
    ['U+0000', '1%00', 'path/evseId'],
    ['a word', 'one', 'path/evseId'],
  ];
  const paths = (st: string, ev: string) => [
    ['GET', `/pay/${st}/${ev}`],
    ['GET', `/pay/${st}/${ev}/qr.svg`],
    ['GET', `/pay/${st}/${ev}/qr.png`],
    ['POST', `/pay/${st}/${ev}?attempt=${ATTEMPT}`],
    ['GET', `/pay/${st}/${ev}/payments/${PAYMENT}`],
  ];
  for (const [what, st, field] of stations)
    for (const [method, path] of paths(st, '1'))
      out.push({
        what: `pay: station ${what}`,
        method,
        path,
        // a station id that decodes: refused by the pages with the field; one that does not: by the router (400
        // BAD_REQUEST, no field); a well-formed one nobody registered: 404 (the QR codes too: none for an unknown EVSE)
        ...(field ? { expect: { status: 400, code: 'PAY_INVALID_STATION', field } } : {}),
      });
  for (const [what, ev, field] of evses)
    for (const [method, path] of paths('HOSTILE-1', ev))
      out.push({ what: `pay: EVSE ${what}`, method, path, expect: { status: 400, code: 'PAY_INVALID_EVSE', field } });
  // a well-formed EVSE the registry does not know: 404, nothing paid
  for (const [method, path] of paths('HOSTILE-1', '1').filter(([, p]) => !p.includes('payments')))
    out.push({ what: 'pay: unknown EVSE', method, path, expect: { status: 404, code: 'PAY_EVSE_UNKNOWN' } });
  for (const [what, q] of [
    ['no attempt', ''],
    ['attempt not a UUID', '?attempt=x'],
    ['attempt U+0000', '?attempt=a%00b'],
    ['attempt 10,000 characters', `?attempt=${LONG}`],
    ['attempt twice', `?attempt=${ATTEMPT}&attempt=${ATTEMPT}`],
    ['attempt upper case', `?attempt=${ATTEMPT.toUpperCase()}`],
  ] as const)
    out.push({
      what: `pay: POST ${what}`,
      method: 'POST',
      path: `/pay/HOSTILE-1/1${q}`,
      expect: { status: 400, code: 'PAY_INVALID_ATTEMPT', field: 'query/attempt' },
    });
  for (const [what, q] of [
    ['an unknown parameter', '?colour=red'],
    ['attempt[a]', `?attempt[a]=${ATTEMPT}`],
    ['U+0000 parameter', '?a%00b=1'],
  ] as const)
    out.push({ what: `pay: start page ${what}`, method: 'GET', path: `/pay/HOSTILE-1/1${q}`, fieldAtFault: true });
  for (const [what, id] of [
    ['not a UUID', 'x'],
    ['U+0000', 'a%00b'],
    ['10,000 characters', LONG],
    ['upper case', PAYMENT.toUpperCase()],
  ] as const)
    out.push({
      what: `pay: payment id ${what}`,
      method: 'GET',
      path: `/pay/HOSTILE-1/1/payments/${id}`,
      expect: { status: 400, code: 'PAY_INVALID_PAYMENT', field: 'path/paymentId' },
    });
  out.push({
    what: 'pay: a payment that does not exist',
    method: 'GET',
    path: `/pay/HOSTILE-1/1/payments/${PAYMENT}`,
    expect: { status: 404, code: 'PAY_PAYMENT_NOT_FOUND' },
  });
  for (const [what, type, body] of [
    ['a form body', 'application/x-www-form-urlencoded', 'card=4242'],
    ['JSON', 'application/json', '{"attempt":1}'],
    ['broken JSON', 'application/json', '{'],
    ['nested 10,000 deep', 'application/json', DEEP(10_000)],
    ['over the limit', 'application/json', `"${'x'.repeat(BODY_LIMIT + 10)}"`],
  ] as const)
    out.push({
      what: `pay: POST with ${what}`,
      method: 'POST',
      path: `/pay/HOSTILE-1/1?attempt=${ATTEMPT}`,
      headers: { 'content-type': type },
      body,
    });
  for (const method of ['PUT', 'DELETE', 'PATCH'])
    out.push({ what: `pay: ${method}`, method, path: '/pay/HOSTILE-1/1' });
  return out;
}

interface Json {
  [k: string]: unknown;
}
type Schema = Json & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  $ref?: string;
};

interface Operation {
  service: string;
  method: string;
  path: string;
  pathParams: string[];
  /** the OpenAPI example of a path parameter, the base value its variants start from (else HOSTILE-1) */
  pathExamples: Record<string, string>;
  queryParams: string[];
  /** the request schema the OpenAPI gives, if any */
  body?: Schema;
  /** PUT, POST, PATCH: bodies are attacked even where none is documented (the parser runs before any handler) */
  takesBody: boolean;
}

interface Hostile {
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** raw bytes or text sent as the body */
  body?: Buffer | string;
  /** the exact answer expected, where one is certain */
  expect?: { status: number; code?: string; field?: string };
  /** a field is at fault: a 400/422 must name one */
  fieldAtFault?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Raw HTTP (node:http): paths and headers go out exactly as written (fetch would normalise `..` and refuse some headers). */
function send(base: string, h: Hostile): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: h.method,
        path: h.path,
        headers: {
          ...(h.body !== undefined ? { 'content-length': String(Buffer.byteLength(h.body)) } : {}),
          ...h.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    // a server may answer (413) and close before it has read a large body
    req.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
    );
    if (h.body !== undefined) req.write(h.body);
    req.end();
  });
}

/**
 * What is wrong with an answer that must be an RFC 9457 problem: JSON, `application/problem+json`, a stable code, its
 * status, the request id when one was sent, a field for a 400 where one is at fault, and the answer `h` expects.
 */
function problemFaults(
  a: Answer,
  where: string,
  h: Pick<Hostile, 'expect' | 'fieldAtFault'>,
  requestId?: string,
): string[] {
  const out: string[] = [];
  let p: Json = {};
  try {
    p = JSON.parse(a.text) as Json;
  } catch {
    out.push(`not JSON: ${where}`);
  }
  if (!String(a.headers['content-type']).startsWith('application/problem+json')) out.push(`not problem+json: ${where}`);
  if (typeof p.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(p.code)) out.push(`no stable code: ${where}`);
  if (p.status !== a.status) out.push(`status differs from the problem's: ${where}`);
  if (requestId !== undefined && p.requestId !== requestId) out.push(`request id not returned: ${where}`);
  if (h.fieldAtFault && a.status === 400 && typeof p.field !== 'string') out.push(`no field named: ${where}`);
  if (
    h.expect &&
    (a.status !== h.expect.status ||
      (h.expect.code && p.code !== h.expect.code) ||
      (h.expect.field !== undefined && p.field !== h.expect.field))
  )
    out.push(`expected ${h.expect.status} ${h.expect.code ?? ''} ${h.expect.field ?? ''}: ${where}`);
  return out;
}

function operationsOf(service: string, doc: Json): Operation[] {
  const ops: Operation[] = [];
  const paths = doc.paths as Record<string, Record<string, Json>>;
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
      const params =
        (op.parameters as Array<{ name: string; in: string; example?: unknown; schema?: Schema }> | undefined) ?? [];
      const body = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content?.[
        'application/json'
      ]?.schema;
      ops.push({
        service,
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        // the example, else a value of the parameter's format: attacks on other parts must not be refused for the path
        pathExamples: Object.fromEntries(
          params
            .filter((p) => p.in === 'path' && (p.example !== undefined || p.schema?.format === 'uuid'))
            .map((p) => [p.name, p.example !== undefined ? String(p.example) : '0b2c7c9e-5f43-4a8e-9d55-3f1f6c3a2b10']),
        ),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        body: body ? resolveRefs(body, doc) : undefined,
        takesBody: ['put', 'post', 'patch'].includes(method),
      });
    }
  }
  return ops;
}

function resolveRefs(s: Schema, doc: Json, seen = 0): Schema {
  if (seen > 20) return {};
  if (s.$ref) {
    const name = s.$ref.split('/').pop()!;
    return resolveRefs(((doc.components as Json).schemas as Record<string, Schema>)[name] ?? {}, doc, seen + 1);
  }
  const out: Schema = { ...s };
  if (s.properties)
    out.properties = Object.fromEntries(
      Object.entries(s.properties).map(([k, v]) => [k, resolveRefs(v, doc, seen + 1)]),
    );
  if (s.items) out.items = resolveRefs(s.items, doc, seen + 1);
  if (s.anyOf) out.anyOf = s.anyOf.map((x) => resolveRefs(x, doc, seen + 1));
  if (s.oneOf) out.oneOf = s.oneOf.map((x) => resolveRefs(x, doc, seen + 1));
  return out;
}

/** A plausible value of a schema: the base every field variant starts from (it need not be accepted). */
function sample(s: Schema, depth = 0): unknown {
  if (depth > 12) return null;
  // the operation's own example first: a body that passes the rest makes every field variant bite deeper
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return sample(alt.find((a) => a.type !== 'null') ?? alt[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type ?? (s.properties ? 'object' : undefined)) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, sample(v, depth + 1)]));
    case 'array':
      return [sample(s.items ?? {}, depth + 1)];
    case 'string':
      return s.format === 'date-time'
        ? '2030-01-01T00:00:00Z'
        : s.format === 'uuid'
          ? '0b2c7c9e-5f43-4a8e-9d55-3f1f6c3a2b10'
          : s.format === 'date'
            ? '2030-01-01'
            : 'HOSTILE-1';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'HOSTILE-1';
  }
}

/** The schema of the value at a JSON pointer of a sample (through the same branches sample() took). */
function schemaAt(s: Schema, path: string[]): Schema {
  let cur = s;
  for (const p of path) {
    const alt = cur.anyOf ?? cur.oneOf;
    if (alt) cur = alt.find((a) => a.type !== 'null') ?? alt[0];
    cur = /^\d+$/.test(p) ? (cur.items ?? {}) : (cur.properties?.[p] ?? {});
  }
  const alt = cur.anyOf ?? cur.oneOf;
  return alt && !cur.type ? (alt.find((a) => a.type !== 'null') ?? alt[0]) : cur;
}

type Path = string[];
function leaves(v: unknown, at: Path = []): Array<{ path: Path; value: unknown }> {
  if (Array.isArray(v)) return [{ path: at, value: v }, ...v.flatMap((x, i) => leaves(x, [...at, String(i)]))];
  if (v !== null && typeof v === 'object')
    return [{ path: at, value: v }, ...Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]))];
  return [{ path: at, value: v }];
}

function withValue(base: unknown, path: Path, value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(base) as Record<string, unknown>;
  let cur: Record<string, unknown> = copy;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<string, unknown>;
  const last = path[path.length - 1];
  if (remove) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

const pointer = (path: Path) => `body${path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')}`;

/** The hostile table of one operation, generated from its OpenAPI description. */
function hostileTable(op: Operation): Hostile[] {
  const fill = (values: Record<string, string> = {}) =>
    op.path.replace(
      /\{([^}]+)\}/g,
      (_m, name: string) => values[name] ?? encodeURIComponent(op.pathExamples[name] ?? 'HOSTILE-1'),
    );
  const basePath = fill();
  const json = { 'content-type': 'application/json' };
  const auth = { authorization: `Bearer ${keys.admin.key}` };
  const baseBody = op.body ? sample(op.body) : op.takesBody ? {} : undefined;
  const bodyText = baseBody === undefined ? undefined : JSON.stringify(baseBody);
  const withBody = (h: Hostile): Hostile => ({
    ...h,
    headers: { ...(bodyText !== undefined ? json : {}), ...auth, ...h.headers },
    body: h.body ?? bodyText,
  });
  const out: Hostile[] = [];

  // credentials
  const noKey = { status: 401, code: 'UNAUTHENTICATED' };
  out.push({
    what: 'no credential',
    method: op.method,
    path: basePath,
    headers: bodyText !== undefined ? json : {},
    body: bodyText,
    expect: noKey,
  });
  out.push({
    what: 'garbage bearer',
    method: op.method,
    path: basePath,
    headers: { ...json, authorization: 'Bearer \u00ff\u00fe garbage' },
    body: bodyText,
    expect: noKey,
  });
  out.push({
    what: 'unknown key',
    method: op.method,
    path: basePath,
    headers: { ...json, authorization: 'Bearer csms_admin_not-a-key' },
    body: bodyText,
    expect: noKey,
  });
  out.push({
    what: 'basic auth',
    method: op.method,
    path: basePath,
    headers: { ...json, authorization: 'Basic YWRtaW46YWRtaW4=' },
    body: bodyText,
    expect: noKey,
  });
  out.push({
    what: 'no credential, access_token in the query',
    method: op.method,
    path: `${basePath}?access_token=${keys.admin.key}`,
    expect: noKey,
  });
  for (const role of ROLES)
    out.push(
      withBody({
        what: `role ${role}`,
        method: op.method,
        path: basePath,
        headers: { authorization: `Bearer ${keys[role].key}` },
      }),
    );

  // path parameters
  for (const name of op.pathParams) {
    const v = (value: string) => fill({ [name]: value });
    const field = `path/${name}`;
    out.push(
      withBody({
        what: `${name}: U+0000`,
        method: op.method,
        path: v('a%00b'),
        expect: { status: 400, code: 'INVALID_CHARACTERS', field },
      }),
    );
    out.push(withBody({ what: `${name}: 10,000 characters`, method: op.method, path: v(LONG) }));
    out.push(withBody({ what: `${name}: 36 dashes`, method: op.method, path: v('-'.repeat(36)) }));
    out.push(withBody({ what: `${name}: unicode`, method: op.method, path: v(encodeURIComponent(UNICODE)) }));
    out.push(withBody({ what: `${name}: ../`, method: op.method, path: v('..%2F..%2Fetc%2Fpasswd') }));
    out.push(withBody({ what: `${name}: ..`, method: op.method, path: v('..') }));
    out.push(withBody({ what: `${name}: empty`, method: op.method, path: v('') }));
    out.push(withBody({ what: `${name}: a lone surrogate (CESU-8)`, method: op.method, path: v('%ED%A0%80') }));
    out.push(withBody({ what: `${name}: bad percent-encoding`, method: op.method, path: v('%E0%A4%A') }));
    out.push(withBody({ what: `${name}: a huge number`, method: op.method, path: v('1e308') }));
    out.push(withBody({ what: `${name}: negative`, method: op.method, path: v('-1') }));
  }

  // query parameters: the documented ones (the handler reads them) and, on every GET, limit, cursor and an unknown one
  const documented = new Set(op.queryParams);
  const queryNames = [
    ...new Set([...op.queryParams, ...(op.method === 'GET' ? ['limit', 'cursor', 'hostile_unknown'] : [])]),
  ];
  for (const name of queryNames) {
    const q = (value: string) => `${basePath}?${name}=${value}`;
    const strict = documented.has(name);
    out.push(
      withBody({
        what: `?${name}: U+0000`,
        method: op.method,
        path: q('a%00b'),
        expect: strict ? { status: 400, code: 'INVALID_CHARACTERS', field: `query/${name}` } : undefined,
      }),
    );
    out.push(withBody({ what: `?${name}: a lone surrogate (CESU-8)`, method: op.method, path: q('%ED%A0%80') }));
    out.push(
      withBody({
        what: `?${name}: tampered cursor`,
        method: op.method,
        path: q(TAMPERED_CURSOR),
        expect:
          strict && name === 'cursor' ? { status: 400, code: 'INVALID_CURSOR', field: 'query/cursor' } : undefined,
      }),
    );
    for (const [what, value] of [
      ['10,000 characters', LONG],
      ['unicode', encodeURIComponent(UNICODE)],
      ['empty', ''],
      ['huge', '99999999999999999999999'],
      ['1e308', '1e308'],
      ['negative', '-1'],
      ['zero', '0'],
      ['wrong type', 'true'],
      ['an array', `x&${name}=y`],
      ['an object', `${name}[a]=1`],
      ...BAD_INSTANTS.map((d) => [`instant ${d}`, encodeURIComponent(d)]),
    ]) {
      out.push(
        withBody({
          what: `?${name}: ${what}`,
          method: op.method,
          path: what === 'an object' ? `${basePath}?${value}` : q(value),
        }),
      );
    }
  }

  if (!op.takesBody) return out;

  // bodies: the whole of it (depth and characters are checked where a handler reads the body: where one is documented)
  const read = op.body !== undefined;
  const whole: Array<[string, Partial<Hostile>]> = [
    ['not JSON', { body: '{"a":', expect: { status: 400, code: 'INVALID_JSON', field: 'body' } }],
    [
      'text/plain',
      {
        headers: { 'content-type': 'text/plain' },
        body: 'hello',
        expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', field: 'Content-Type' },
      },
    ],
    [
      'charset=iso-8859-1',
      {
        headers: { 'content-type': 'application/json; charset=iso-8859-1' },
        expect: { status: 415, code: 'UNSUPPORTED_CHARSET', field: 'Content-Type' },
      },
    ],
    [
      'Content-Encoding: compress',
      {
        headers: { 'content-encoding': 'compress' },
        expect: { status: 415, code: 'UNSUPPORTED_ENCODING', field: 'Content-Encoding' },
      },
    ],
    [
      'bad gzip',
      {
        headers: { 'content-encoding': 'gzip' },
        body: 'not gzip',
        expect: { status: 400, code: 'INVALID_JSON', field: 'body' },
      },
    ],
    ['good gzip', { headers: { 'content-encoding': 'gzip' }, body: gzipSync(bodyText ?? '{}') }],
    [
      'over the limit',
      {
        body: JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) }),
        expect: { status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'body' },
      },
    ],
    [
      'over the limit, no credential',
      {
        headers: { authorization: '' },
        body: JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) }),
        expect: { status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'body' },
      },
    ],
    ['nested 10,000 deep', { body: DEEP(10_000), expect: read ? { status: 400, code: 'JSON_TOO_DEEP' } : undefined }],
    [
      'an object nested 10,000 deep in a field',
      {
        body: JSON.stringify(baseBody).replace(/^\{/, `{"deep":${DEEP(10_000)},`),
        expect: read ? { status: 400, code: 'JSON_TOO_DEEP' } : undefined,
      },
    ],
    ['an array', { body: '[]' }],
    ['a string', { body: '"x"' }],
    ['a number', { body: '1e308' }],
    ['null', { body: 'null' }],
    ['empty object', { body: '{}' }],
    ['empty', { body: '' }],
    [
      'U+0000 in a name',
      {
        body: JSON.stringify({ ...(baseBody as object), [NUL]: 1 }),
        expect: read ? { status: 400, code: 'INVALID_CHARACTERS', field: `body/${NUL}` } : undefined,
      },
    ],
  ];
  for (const [what, h] of whole) out.push(withBody({ what: `body: ${what}`, method: op.method, path: basePath, ...h }));
  if (!read) return out;

  // bodies: every field of the request schema
  const fieldVariants = (path: Path, value: unknown): Array<[string, unknown, Hostile['expect']?]> => {
    const s = schemaAt(op.body ?? {}, path);
    const f = pointer(path);
    if (typeof value === 'string') {
      return [
        ['U+0000', NUL, { status: 400, code: 'INVALID_CHARACTERS', field: f }],
        ['a lone surrogate', LONE_SURROGATE, { status: 400, code: 'INVALID_CHARACTERS', field: f }],
        ['unicode', UNICODE],
        ['10,000 characters', LONG],
        ['empty', ''],
        ['wrong type', 12345],
        ...(s.format === 'date-time' ? BAD_INSTANTS.map((d): [string, unknown] => [`instant ${d}`, d]) : []),
      ];
    }
    if (typeof value === 'number') {
      return [
        ['1e308', 1e308],
        ['-1e308', -1e308],
        ['2^63', 2 ** 63],
        ['a fraction', 1.5],
        ['wrong type', 'x'],
      ];
    }
    if (typeof value === 'boolean') return [['wrong type', 'true']];
    if (Array.isArray(value))
      return [
        ['empty array', []],
        ['wrong type', {}],
      ];
    if (value !== null && typeof value === 'object')
      return [
        ['wrong type', []],
        ['unknown field', { ...value, hostile_unknown: { a: [1] } }],
      ];
    return [['wrong type', { a: 1 }]];
  };
  const targets = leaves(baseBody)
    .filter((l) => l.path.length > 0)
    .slice(0, 60);
  for (const { path, value } of targets) {
    for (const [what, v, expect] of fieldVariants(path, value)) {
      out.push(
        withBody({
          what: `${pointer(path)}: ${what}`,
          method: op.method,
          path: basePath,
          body: JSON.stringify(withValue(baseBody, path, v)),
          expect,
          fieldAtFault: true,
        }),
      );
    }
    out.push(
      withBody({
        what: `${pointer(path)}: missing`,
        method: op.method,
        path: basePath,
        body: JSON.stringify(withValue(baseBody, path, undefined, true)),
      }),
    );
  }
  out.push(
    withBody({
      what: 'body: unknown field',
      method: op.method,
      path: basePath,
      body: JSON.stringify({ ...(baseBody as object), hostile_unknown: 1 }),
      fieldAtFault: true,
    }),
  );
  return out;
}

describe('hostile input: every endpoint of every service answers every bad request with a 4xx problem, stores nothing, stays up', () => {
  const tag = `${process.pid}_${Math.floor(performance.now())}`;
  const dbs: Record<string, string> = Object.fromEntries(
    SERVICES.map((s) => [s, `csms_test_hostile_${s.split('-')[0]}_${tag}`]),
  );
  const topics = {
    OCPP_INBOUND_TOPIC: uniqueName('hostile.ocpp-inbound'),
    SESSION_EVENTS_TOPIC: uniqueName('hostile.session-events'),
    TARIFF_EVENTS_TOPIC: uniqueName('hostile.tariff-events'),
    BILLING_EVENTS_TOPIC: uniqueName('hostile.billing-events'),
    REGISTRY_STATIONS_TOPIC: uniqueName('hostile.registry-stations'),
    REGISTRY_TOKENS_TOPIC: uniqueName('hostile.registry-tokens'),
    OCPP_COMMANDS_TOPIC: uniqueName('hostile.ocpp-commands'),
    OCPP_COMMAND_RESULTS_TOPIC: uniqueName('hostile.ocpp-command-results'),
    MONITORING_EVENTS_TOPIC: uniqueName('hostile.monitoring-events'),
    FINANCE_EVENTS_TOPIC: uniqueName('hostile.finance-events'),
    PAYMENT_EVENTS_TOPIC: uniqueName('hostile.payment-events'),
    OCPI_EVENTS_TOPIC: uniqueName('hostile.ocpi-events'),
  };
  const services: Record<string, ServiceProcess> = {};
  const docs: Record<string, Json> = {};
  const clients: Record<string, Client> = {};
  const errorsAtStart: Record<string, number> = {};

  beforeAll(async () => {
    await createTestTopics(testKafka(), Object.values(topics), 3);
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      API_KEYS: Object.values(keys)
        .map((k) => k.entry)
        .join(','),
      LOG_LEVEL: 'warn',
      ...topics,
    };
    const ports = await Promise.all(SERVICES.map(() => freePort()));
    const envs: Record<string, Record<string, string>> = {
      'session-service': { SESSION_CONSUMER_GROUP: uniqueName('hostile-sessions') },
      'reporting-service': {
        REPORTING_CONSUMER_GROUP: uniqueName('hostile-reporting'),
        OCPI_TOKENS: `hostile-hub:${createHash('sha256').update(OCPI_TOKEN).digest('hex')}`,
        // no scheduled reconciliation run: a run's state row would count as stored between two requests
        RECONCILIATION_INTERVAL_S: '0',
      },
      'tariff-service': { TARIFF_CONSUMER_GROUP: uniqueName('hostile-tariffs') },
      // the PSP is never called here (no session starts): its webhooks on a free port of their own
      'payment-service': {
        PAYMENT_CONSUMER_GROUP: uniqueName('hostile-payments'),
        PAYMENT_WEBHOOK_PORT: String(await freePort()),
        // the ad-hoc pages read the tariff of an EVSE from the tariff service (started before it)
        TARIFF_API_URL: `http://127.0.0.1:${ports[SERVICES.indexOf('tariff-service')]}`,
        TARIFF_API_KEY: keys.integration.key,
      },
      'ocpp-gateway': {
        OCPP_PORT: String(await freePort()),
        OCPP_HOST: '127.0.0.1',
        GATEWAY_INSTANCE: `hostile-${tag}`,
      },
    };
    // one at a time: four TypeScript start-ups at once starve a 2-core machine
    for (const [i, name] of SERVICES.entries()) {
      services[name] = await startServiceProcess(name, {
        ...common,
        ...envs[name],
        DATABASE_URL: testDatabaseUrl(dbs[name]),
        HTTP_PORT: String(ports[i]),
      });
      errorsAtStart[name] = services[name].errorLines().length;
      docs[name] = (await (await fetch(`${services[name].url}/openapi.json`)).json()) as Json;
      clients[name] = new Client({ connectionString: testDatabaseUrl(dbs[name]) });
      await clients[name].connect();
    }
  }, 300_000);

  afterAll(async () => {
    for (const c of Object.values(clients)) await c.end().catch(() => undefined);
    for (const s of Object.values(services)) s.kill('SIGTERM');
    await Promise.all(Object.values(services).map((s) => s.exited()));
    await dropTestDatabases(Object.values(dbs));
  }, 120_000);

  /**
   * Rows in every table of a service's database (exact counts, not pg_stat estimates), but `inbox`: what a
   * consumer has read, written only by consumers (a service reads back the events its own accepted writes
   * published, at a moment of the broker's choosing), never by a request.
   */
  async function rowCount(service: string): Promise<number> {
    const c = clients[service];
    const tables = (
      await c.query<{ t: string }>(
        `select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'inbox'`,
      )
    ).rows.map((r) => r.t);
    const sql = `select ${tables.map((t) => `(select count(*) from "${t}")`).join(' + ')} as n`;
    return Number((await c.query<{ n: string }>(sql)).rows[0].n);
  }
  /** After an accepted write, the outbox relay deletes the rows it published: wait for it before counting again. */
  async function settledRowCount(service: string): Promise<number> {
    const c = clients[service];
    const hasOutbox =
      (await c.query(`select 1 from information_schema.tables where table_schema = 'public' and table_name = 'outbox'`))
        .rowCount === 1;
    if (hasOutbox)
      await waitFor(
        async () => Number((await c.query<{ n: string }>('select count(*) as n from outbox')).rows[0].n) === 0,
        { what: `${service}'s outbox drained` },
      );
    return rowCount(service);
  }

  it.each(SERVICES)('%s: its OpenAPI lists at least the endpoints known today', (service) => {
    const listed = operationsOf(service, docs[service]).map((o) => `${o.method} ${o.path}`);
    expect(listed).toEqual(expect.arrayContaining(KNOWN[service]));
  });

  it.each(SERVICES)(
    '%s: every operation answers its hostile table below 500, as problems with stable codes, and stores nothing it refused',
    async (service) => {
      const failures: string[] = [];
      let sent = 0;
      let baseline = await settledRowCount(service);
      for (const op of operationsOf(service, docs[service])) {
        for (const h of hostileTable(op)) {
          const requestId = `hostile-${++sent}`;
          const a = await send(services[service].url, { ...h, headers: { ...h.headers, 'x-request-id': requestId } });
          const where = `${op.method} ${op.path} [${h.what}] → ${a.status} ${a.text.slice(0, 300)}`;
          if (a.status >= 500) failures.push(`5xx: ${where}`);
          if (a.status >= 400) {
            let p: Json = {};
            try {
              p = JSON.parse(a.text) as Json;
            } catch {
              failures.push(`not JSON: ${where}`);
            }
            if (!String(a.headers['content-type']).startsWith('application/problem+json'))
              failures.push(`not problem+json: ${where}`);
            if (typeof p.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(p.code))
              failures.push(`no stable code: ${where}`);
            if (p.status !== a.status) failures.push(`status differs from the problem's: ${where}`);
            if (p.requestId !== requestId) failures.push(`request id not returned: ${where}`);
            if (h.fieldAtFault && (a.status === 400 || a.status === 422) && typeof p.field !== 'string')
              failures.push(`no field named: ${where}`);
            if (String(p.instance ?? '').includes('?')) failures.push(`query string echoed in instance: ${where}`);
          }
          if (h.expect) {
            const p = a.status >= 400 ? (JSON.parse(a.text) as Json) : {};
            if (
              a.status !== h.expect.status ||
              (h.expect.code && p.code !== h.expect.code) ||
              (h.expect.field !== undefined && p.field !== h.expect.field)
            ) {
              failures.push(`expected ${h.expect.status} ${h.expect.code ?? ''} ${h.expect.field ?? ''}: ${where}`);
            }
          }
          if (op.method !== 'GET') {
            if (a.status >= 400) {
              const now = await rowCount(service);
              if (now !== baseline) failures.push(`stored something (${baseline} → ${now} rows): ${where}`);
            } else baseline = await settledRowCount(service);
          }
        }
      }
      expect(failures).toEqual([]);
      // a table that lost its operations would pass vacuously
      expect(sent).toBeGreaterThan(KNOWN[service].length * 30);
    },
    240_000,
  );

  it('reporting-service: the OCPI modules answer their hostile table below 500, with OCPI envelopes', async () => {
    const failures: string[] = [];
    // a registration's token A, for the credentials module's POST (every body sent with it is refused: it stays unspent)
    const opened = await fetch(`${services['reporting-service'].url}/api/v1/ocpi/parties`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.finance.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'hostile party' }),
    });
    expect(opened.status).toBe(201);
    const table = ocpiHostileTable(((await opened.json()) as { tokenA: string }).tokenA);
    for (const h of table) {
      const a = await send(services['reporting-service'].url, h);
      const where = `${h.method} ${h.path.slice(0, 120)} [${h.what}] → ${a.status} ${a.text.slice(0, 200)}`;
      if (a.status >= 500) failures.push(`5xx: ${where}`);
      let body: Json = {};
      try {
        body = JSON.parse(a.text) as Json;
      } catch {
        failures.push(`not JSON: ${where}`);
      }
      const ours = h.expect !== undefined;
      if (ours) {
        if (a.status !== h.expect!.status) failures.push(`expected ${h.expect!.status}: ${where}`);
        if (h.expect!.code && String(body.status_code) !== h.expect!.code)
          failures.push(`expected status_code ${h.expect!.code}: ${where}`);
        if (typeof body.timestamp !== 'string') failures.push(`no timestamp: ${where}`);
      }
    }
    expect(failures).toEqual([]);
    expect(table.length).toBeGreaterThan(150);
  });

  it('reporting-service: the revenue pages and the breaks period answer their hostile table, problems with the field', async () => {
    const failures: string[] = [];
    const table = financeParamsHostileTable();
    for (const h of table) {
      const a = await send(services['reporting-service'].url, h);
      const where = `${h.method} ${h.path.slice(0, 160)} [${h.what}] → ${a.status} ${a.text.slice(0, 200)}`;
      if (a.status >= 500) failures.push(`5xx: ${where}`);
      if (a.status !== h.expect!.status) failures.push(`expected ${h.expect!.status}: ${where}`);
      if (a.status >= 400) {
        let p: Json = {};
        try {
          p = JSON.parse(a.text) as Json;
        } catch {
          failures.push(`not JSON: ${where}`);
        }
        if (!String(a.headers['content-type']).startsWith('application/problem+json'))
          failures.push(`not problem+json: ${where}`);
        if (h.expect!.code && p.code !== h.expect!.code) failures.push(`expected code ${h.expect!.code}: ${where}`);
        if (h.expect!.field !== undefined && p.field !== h.expect!.field)
          failures.push(`expected field ${h.expect!.field}: ${where}`);
      }
    }
    expect(failures).toEqual([]);
    expect(table.length).toBeGreaterThan(20);
  });

  it('payment-service: a settlement report uploaded as a CSV file answers its hostile table below 500, as problems, and stores nothing', async () => {
    const failures: string[] = [];
    const table = settlementCsvHostileTable();
    const before = await settledRowCount('payment-service');
    let stored = 0;
    for (const h of table) {
      const a = await send(services['payment-service'].url, h);
      const where = `${h.method} ${h.path.slice(0, 120)} [${h.what}] → ${a.status} ${a.text.slice(0, 200)}`;
      if (a.status >= 500) failures.push(`5xx: ${where}`);
      if (a.status >= 400) failures.push(...problemFaults(a, where, h));
      else {
        stored++;
        if (h.expect && a.status !== h.expect.status) failures.push(`expected ${h.expect.status}: ${where}`);
      }
    }
    expect(failures).toEqual([]);
    // the one accepted file (the header only) is an import of no lines: its report event and nothing else
    expect(stored).toBe(1);
    expect(await settledRowCount('payment-service')).toBe(before + 1);
    expect(table.length).toBeGreaterThan(20);
  });

  it('payment-service: the ad-hoc payment pages answer their hostile table below 500, as problems, and store nothing', async () => {
    const failures: string[] = [];
    const table = adhocHostileTable();
    const before = await settledRowCount('payment-service');
    let sent = 0;
    for (const h of table) {
      const requestId = `hostile-pay-${++sent}`;
      const a = await send(services['payment-service'].url, {
        ...h,
        headers: { ...h.headers, 'x-request-id': requestId },
      });
      const where = `${h.method} ${h.path.slice(0, 120)} [${h.what}] → ${a.status} ${a.text.slice(0, 200)}`;
      if (a.status >= 500) failures.push(`5xx: ${where}`);
      if (a.status < 400) failures.push(`accepted: ${where}`);
      failures.push(...problemFaults(a, where, h, requestId));
    }
    expect(failures).toEqual([]);
    expect(await rowCount('payment-service')).toBe(before);
    expect(table.length).toBeGreaterThan(80);
  });

  it.each(SERVICES)('%s: is still ready and logged no error line while attacked', async (service) => {
    expect((await fetch(`${services[service].url}/health/ready`)).status).toBe(200);
    expect(services[service].errorLines().slice(errorsAtStart[service])).toEqual([]);
  });
});
