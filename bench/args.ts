/** `--name=value` from the command line, or undefined (the benchmarks' options). */
export const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
