export * from './env';
export * from './database';
export * from './wait';
export * from './kafka';
export * from './processes';
export * from './charger-driver';
export * from './dedicated-kafka';
