/**
 * `npm run dead-letters -- list|redrive --service <name> [--id <id> | --all] [--consumer G] [--code C] [--since T] [--status S]`
 * Lists the records a running service's consumers parked, and re-drives them once the cause is fixed.
 * The re-drive runs inside the service (POST /api/v1/dead-letters/{id}/redrive: the consumer's own apply
 * path, exactly once); running it again changes nothing. `--service` is one of the services `npm start`
 * runs (session-service, tariff-service, reporting-service; their ports from <PREFIX>_HTTP_PORT as there)
 * or `--url http://host:port`. The key: CSMS_API_KEY, else the local admin key of ~/.config/csms/local.env.
 */
import { deadLettersCli, parseFlags } from '@csms/service-kit';
import { localEnv } from './local-env';
import { SERVICES } from './services';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const { flags } = parseFlags(args);
  let baseUrl = typeof flags.url === 'string' ? flags.url : undefined;
  if (!baseUrl) {
    // the gateway's consumers park nothing: it has no dead-letter API
    const consuming = SERVICES.filter((s) => s.name !== 'ocpp-gateway');
    const svc = consuming.find((s) => s.name === flags.service || s.name === `${String(flags.service)}-service`);
    if (!svc) {
      console.error(`--service must be one of ${consuming.map((s) => s.name).join(', ')} (or give --url)`);
      return 2;
    }
    baseUrl = `http://127.0.0.1:${svc.httpPort}`;
  }
  const apiKey = process.env.CSMS_API_KEY ?? localEnv().CSMS_ADMIN_KEY;
  const rest = args.filter(
    (a, i) => !['--service', '--url'].includes(a) && !['--service', '--url'].includes(args[i - 1]),
  );
  return deadLettersCli(rest, { baseUrl, apiKey, print: (l) => console.log(l) });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
