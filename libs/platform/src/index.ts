export * from './logger';
export * from './config';
export * from './database';
export * from './rows';
export * from './wakeable-sleep';
export * from './nice';
