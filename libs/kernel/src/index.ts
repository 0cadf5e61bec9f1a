// The shared kernel: the few building blocks every domain library uses (the decider shape, the domain error,
// time, exact numbers). It imports nothing of the platform; everything else may import it.
export * from './decider';
export * from './errors';
export * from './time';
export * from './testing';
export * from './exact';
export * from './uuid-v5';
export * from './freeze';
export * from './prng';
