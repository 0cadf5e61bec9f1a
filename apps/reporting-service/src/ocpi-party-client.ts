import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  EMPTY_ALLOW_LIST,
  OcpiInputError,
  authorizationOf,
  envelopeData,
  parsePartyUrl,
  partyAddressRefusal,
  partyEndpointsOf,
  partyUrlRefusal,
  versionUrlOf,
  type Endpoint,
  type PartyUrlAllowList,
} from '@csms/ocpi';

/**
 * The port through which the credentials module calls a party back during the handshake (OCPI 2.2.1 §7: on POST
 * and PUT the server fetches the client's versions and the details of the version, with the client's token B).
 * Failures are OcpiInputError 2001 (the versions URL may not be called: field `body/url`), 3001 (unusable, or the
 * details URL it gave may not be called), 3002 (no 2.2.1) or 3003 (no credentials endpoint).
 */
export interface OcpiPartyClient {
  endpointsOf(versionsUrl: string, tokenB: string): Promise<Endpoint[]>;
}

/** The largest answer read from a party (a versions list or version details is a few kB). */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** A party's address refused by the guard, raised from the connection's name lookup. */
class AddressRefused extends Error {}

/**
 * The HTTP adapter: GET with `Authorization: Token <base64 token B>`, no redirects, a timeout, at most 1 MiB read;
 * and the guard against server-side request forgery (libs/ocpi `partyUrlRefusal`, `partyAddressRefusal`): an
 * http(s) URL only, and a host that is, or resolves to, a non-public address (loopback, private, link-local, …)
 * only when the allow-list (`OCPI_PARTY_URL_ALLOW`) has it. A host name is checked in the connection's own name
 * lookup, on every address it resolved to, so the address connected to is the address checked (a name that
 * resolves to a public address when asked first and to a private one when connecting gains nothing).
 */
export class HttpOcpiPartyClient implements OcpiPartyClient {
  constructor(
    private readonly timeoutMs: number,
    private readonly allow: PartyUrlAllowList = EMPTY_ALLOW_LIST,
  ) {}

  async endpointsOf(versionsUrl: string, tokenB: string): Promise<Endpoint[]> {
    const versions = await this.get(versionsUrl, tokenB, 'versions', 'body/url');
    let detailsUrl: string;
    try {
      detailsUrl = parsePartyUrl(versionUrlOf(versions), 'url');
    } catch (e) {
      if (e instanceof OcpiInputError && e.statusCode === 2001)
        throw new OcpiInputError(3001, 'versions: the URL of 2.2.1 is not an http(s) URL');
      throw e;
    }
    return partyEndpointsOf(await this.get(detailsUrl, tokenB, 'version details'));
  }

  /** `field`: the request's field the URL came from (a refusal is then the client's fault, 2001), else 3001 */
  private async get(url: string, tokenB: string, what: string, field?: string): Promise<unknown> {
    const refuse = (why: string) =>
      field ? new OcpiInputError(2001, `${field}: ${why}`, field) : new OcpiInputError(3001, `${what}: ${why}`);
    const refusal = partyUrlRefusal(url, this.allow);
    if (refusal) throw refuse(refusal);
    const u = new URL(url);
    let res: IncomingMessage;
    try {
      const options: RequestOptions = {
        method: 'GET',
        headers: { authorization: authorizationOf(tokenB), accept: 'application/json' },
        lookup: this.guardedLookup(u.hostname),
        // a connection of its own each time (no pool): every call looks the name up, and so is checked
        agent: false,
        signal: AbortSignal.timeout(this.timeoutMs),
      };
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = u.protocol === 'https:' ? httpsRequest(u, options, resolve) : httpRequest(u, options, resolve);
        req.on('error', reject);
        req.end();
      });
    } catch (e) {
      if (e instanceof AddressRefused) throw refuse(e.message);
      throw new OcpiInputError(3001, `${what}: the party's endpoint could not be reached`);
    }
    // no redirect is followed: a 3xx is an answer that is not 200
    if (res.statusCode !== 200) {
      res.destroy();
      throw new OcpiInputError(3001, `${what}: the party answered HTTP ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.byteLength;
        if (size > MAX_ANSWER_BYTES) {
          res.destroy();
          throw new OcpiInputError(3001, `${what}: the answer is over 1 MiB`);
        }
        chunks.push(chunk);
      }
    } catch (e) {
      if (e instanceof OcpiInputError) throw e;
      throw new OcpiInputError(3001, `${what}: the answer could not be read`);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new OcpiInputError(3001, `${what}: the answer is not JSON`);
    }
    return envelopeData(body, what);
  }

  /** The connection's name lookup: every address the name resolved to must pass the guard. */
  private guardedLookup(host: string): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...(options as LookupOptions), all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        const refusal = addresses.map((a) => partyAddressRefusal(host, a.address, this.allow)).find(Boolean);
        if (refusal) return callback(new AddressRefused(refusal), '', 0);
        if (addresses.length === 0) return callback(new Error(`${hostname}: no address`), '', 0);
        if ((options as LookupOptions).all) return callback(null, addresses);
        callback(null, addresses[0].address, addresses[0].family);
      });
    };
  }
}
