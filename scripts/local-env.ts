import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { newApiKey } from '@csms/service-kit';

/**
 * `~/.config/csms/local.env` (or under XDG_CONFIG_HOME): the local admin API key `npm start` made on its
 * first run (`CSMS_ADMIN_KEY`) and the entry services check (`API_KEYS`). Created here when missing.
 */
let createdNow = false;

/** True when `localEnv()` created the file (and so the admin key) in this process: the one time the key is shown. */
export function localEnvCreatedNow(): boolean {
  return createdNow;
}

export function localEnv(): Record<string, string> {
  const dir = path.join(process.env.XDG_CONFIG_HOME ?? path.join(homedir(), '.config'), 'csms');
  const file = path.join(dir, 'local.env');
  if (!existsSync(file)) {
    createdNow = true;
    mkdirSync(dir, { recursive: true });
    const { key, entry } = newApiKey('local-admin', 'admin');
    writeFileSync(
      file,
      `# created by npm start; the key is yours, the entry is what services check\nCSMS_ADMIN_KEY=${key}\nAPI_KEYS=${entry}\n`,
      { mode: 0o600 },
    );
  }
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}
