export * from './api-keys';
export * from './problem';
export * from './auth.guard';
export * from './validation';
export * from './health';
export * from './metrics';
export * from './module';
export * from './bootstrap';
