// Layer rules (docs/conventions.md §1): domain libraries are pure TypeScript. They import nothing from the
// frameworks (NestJS, TypeORM, kafkajs, pg, ws) and nothing from apps/ or the glue libraries.
// Glue libraries: messaging, platform, testing. Everything else under libs/ is domain.
const glue = '^libs/(messaging|platform|service-kit|testing)/';
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make modules impossible to reason about in isolation.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-framework-free',
      severity: 'error',
      comment: 'Domain libraries must not import NestJS, TypeORM, kafkajs, pg or ws.',
      from: { path: '^libs/', pathNot: glue },
      to: { path: 'node_modules/(@nestjs|typeorm|kafkajs|pg|ws|ocpp-rpc|express)/' },
    },
    {
      name: 'domain-not-on-glue',
      severity: 'error',
      comment: 'Domain libraries do not depend on the glue libraries or on apps.',
      from: { path: '^libs/', pathNot: glue },
      to: { path: ['^apps/', glue] },
    },
    {
      name: 'libs-not-on-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'kernel-is-a-leaf',
      severity: 'error',
      comment: 'libs/kernel is the shared kernel: it imports no other library of ours (all of them may import it).',
      from: { path: '^libs/kernel/' },
      to: { path: ['^libs/(?!kernel/)', '^apps/'] },
    },
    {
      name: 'ocmf-node-crypto-only',
      severity: 'error',
      comment:
        'libs/ocmf verifies meter signatures with node:crypto alone: no npm package (no crypto library) and no library of ours but the kernel.',
      from: { path: '^libs/ocmf/', pathNot: '[.]spec[.]ts$' },
      to: { pathNot: '^libs/(ocmf|kernel)/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'contracts-on-the-kernel-only',
      severity: 'error',
      comment: 'libs/contracts is the only source of event types: it builds on the kernel and nothing else of ours.',
      from: { path: '^libs/contracts/' },
      to: { path: ['^libs/(?!contracts/|kernel/)', '^apps/'] },
    },
    {
      name: 'payments-on-kernel-contracts-money',
      severity: 'error',
      comment:
        'libs/payments (the payment rules) is a domain library on the kernel, the contracts and money only: no pricing, billing or sessions rules, no PSP SDK.',
      from: { path: '^libs/payments/' },
      to: { path: ['^libs/(?!payments/|kernel/|contracts/|money/)', 'node_modules/stripe/'] },
    },
    {
      name: 'consumers-through-the-transport',
      severity: 'error',
      comment:
        'Consumers are @EventPattern methods of *.consumer.ts controllers; only service-kit (the transport) and those files speak @nestjs/microservices.',
      from: {
        pathNot: ['^libs/service-kit/', '^apps/[^/]+/src/[^/]+[.]consumer[.]ts$', '^bench/consumer-transport[.]ts$'],
      },
      to: { path: 'node_modules/@nestjs/microservices/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules is not followed but stays in the graph: excluding it dropped every npm import, so the
    // framework and package rules above could never fire
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
