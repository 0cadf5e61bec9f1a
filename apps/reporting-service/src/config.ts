import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@csms/platform';

export const ReportingServiceConfigSchema = Type.Object({
  ...CommonConfig,
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/csms_reporting', pattern: '^postgres(ql)?://' }),
  HTTP_PORT: Type.Integer({ default: 3003, minimum: 0, maximum: 65535 }),
  HTTP_HOST: Type.String({ default: '127.0.0.1' }),
  API_KEYS: Type.Optional(Type.String()),
  REPORTING_CONSUMER_GROUP: Type.String({ default: 'reporting-service', minLength: 1 }),
  OCPP_INBOUND_TOPIC: Type.String({ default: 'ocpp.inbound' }),
  MONITORING_EVENTS_TOPIC: Type.String({ default: 'monitoring.events' }),
});
export type ReportingServiceConfig = Static<typeof ReportingServiceConfigSchema>;

export function loadReportingServiceConfig(env: NodeJS.ProcessEnv = process.env): ReportingServiceConfig {
  return loadConfig(ReportingServiceConfigSchema, env);
}
