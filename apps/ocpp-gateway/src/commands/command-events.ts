/** The command events live in libs/contracts; re-exported here for the gateway's modules. */
export { OcppCommandRequestedV1, COMMAND_RESULT_STATUSES, OcppCommandCompletedV1 } from '@csms/contracts';
export type { OcppCommandRequested, OcppCommandCompleted } from '@csms/contracts';
