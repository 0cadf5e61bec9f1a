import {
  OcpiInputError,
  authorizationOf,
  envelopeData,
  parsePartyUrl,
  partyEndpointsOf,
  versionUrlOf,
  type Endpoint,
} from '@csms/ocpi';

/**
 * The port through which the credentials module calls a party back during the handshake (OCPI 2.2.1 §7: on POST
 * and PUT the server fetches the client's versions and the details of the version, with the client's token B).
 * Failures are OcpiInputError 3001 (unusable), 3002 (no 2.2.1) or 3003 (no credentials endpoint).
 */
export interface OcpiPartyClient {
  endpointsOf(versionsUrl: string, tokenB: string): Promise<Endpoint[]>;
}

/** The largest answer read from a party (a versions list or version details is a few kB). */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** The HTTP adapter: GET with `Authorization: Token <base64 token B>`, no redirects, a timeout, at most 1 MiB read. */
export class HttpOcpiPartyClient implements OcpiPartyClient {
  constructor(private readonly timeoutMs: number) {}

  async endpointsOf(versionsUrl: string, tokenB: string): Promise<Endpoint[]> {
    const versions = await this.get(versionsUrl, tokenB, 'versions');
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

  private async get(url: string, tokenB: string, what: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: authorizationOf(tokenB), accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new OcpiInputError(3001, `${what}: the party's endpoint could not be reached`);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new OcpiInputError(3001, `${what}: the party answered HTTP ${res.status}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > MAX_ANSWER_BYTES) throw new OcpiInputError(3001, `${what}: the answer is over 1 MiB`);
        chunks.push(Buffer.from(chunk));
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
}
