/**
 * The command that runs `args` (a program and its arguments) at CPU priority `nice`: through `nice(1)`, so that every
 * thread of the process (V8's garbage-collector threads start before any code could renice them) runs at it, under
 * the same pid (`nice` replaces itself with the program). As it is for 0, and on Windows (no `nice`).
 */
export function withNice(nice: number, command: string, args: readonly string[]): { command: string; args: string[] } {
  if (nice === 0 || process.platform === 'win32') return { command, args: [...args] };
  return { command: 'nice', args: ['-n', String(nice), command, ...args] };
}
