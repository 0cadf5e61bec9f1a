/**
 * What each role may do, as the services enforce it (their `@RequireRoles`; admin may do everything). The
 * console hides what a role may not do; the services refuse it anyway (403).
 */
export const ROLES = ['operator', 'finance', 'integration', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  /** reporting: GET /stations, /alarms; gateway: GET /stations */
  viewStations: ['operator', 'integration'],
  /** gateway: POST /stations/{id}/commands */
  sendCommands: ['operator'],
  /** gateway: GET /commands/{id} */
  viewCommands: ['operator', 'integration'],
  /** reporting: POST /alarms/{id}/acknowledge */
  acknowledgeAlarms: ['operator'],
  /** sessions: every GET */
  viewSessions: ['operator', 'finance', 'integration'],
  /** tariffs: GET /cdrs */
  viewCdrs: ['operator', 'finance', 'integration'],
  /** tariffs: GET /tariffs, versions, assignments */
  viewTariffs: ['operator', 'finance', 'integration'],
  /** tariffs: PUT /tariffs/{id}, POST /tariff-assignments */
  editTariffs: ['finance'],
  /** tariffs: POST /what-if */
  whatIf: ['finance'],
  /** reporting: GET /billing-completeness */
  viewCompleteness: ['finance'],
  /** reporting: GET /reports/revenue, /reports/cdrs (JSON and CSV) */
  viewRevenue: ['finance'],
  /** reporting: GET /reports/utilisation, /reports/uptime */
  viewUtilisation: ['finance', 'operator'],
  /** payments: GET /accounts, /accounts/{id}, /accounts/{id}/balances */
  viewAccounts: ['finance', 'integration', 'operator'],
  /** payments: GET /accounts/{id}/statements */
  viewStatements: ['finance', 'integration'],
  /** payments: GET /ledger/balances, /ledger/entries */
  viewLedger: ['finance', 'integration'],
  /** payments: GET /sessions/{id}/payment, /sessions/{id}/journal */
  viewPayments: ['finance', 'integration', 'operator'],
  /** reporting: POST /reconciliation/runs, GET /reconciliation/breaks, POST /reconciliation/breaks/{id}/resolve */
  reconcile: ['finance'],
  /** reporting: GET /reports/payments */
  viewPaymentsReport: ['finance'],
  /** payments: GET /unbilled-cdrs */
  viewUnbilled: ['finance', 'operator'],
  /** payments: POST /accounts, PUT /accounts/{id} (open an account, change how it pays or its policy) */
  manageAccounts: ['finance', 'integration'],
  /** payments: POST /accounts/{id}/top-ups */
  topUpWallets: ['finance', 'integration'],
  /** payments: POST /accounts/{id}/statements */
  issueStatements: ['finance'],
  /** payments: GET /settlements, POST /settlements (the PSP's settlement reports) */
  importSettlements: ['finance', 'integration'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role | undefined, permission: Permission): boolean {
  if (!role) return false;
  return role === 'admin' || (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/**
 * The role a key was made for: keys made by `npm run apikey` (service-kit's newApiKey) read
 * `csms_<role>_<random>`. The services hold only hashes, and no endpoint says who a key is, so the console
 * reads the prefix; a key of another shape is asked for its role at login.
 */
export function roleOfKey(key: string): Role | undefined {
  const m = /^csms_([a-z]+)_/.exec(key.trim());
  return m && (ROLES as readonly string[]).includes(m[1]) ? (m[1] as Role) : undefined;
}
