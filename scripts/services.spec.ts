import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { withNice } from '@csms/platform';
import { threadNices } from '@csms/testing';
import { PROCESSES, consumerNice } from './services';

describe('the CPU priority npm start gives the consumers (CONSUMER_NICE)', () => {
  it('is 5 unless set, any integer from 0 to 19 when set, and anything else is refused naming the variable', () => {
    expect(consumerNice({})).toBe(5);
    expect(consumerNice({ CONSUMER_NICE: '' })).toBe(5);
    expect(consumerNice({ CONSUMER_NICE: '0' })).toBe(0);
    expect(consumerNice({ CONSUMER_NICE: '19' })).toBe(19);
    expect(consumerNice({ CONSUMER_NICE: ' 7 ' })).toBe(7);
    for (const bad of ['20', '-1', '5.5', 'low', '1e1'])
      expect(() => consumerNice({ CONSUMER_NICE: bad })).toThrow(
        `CONSUMER_NICE: "${bad}" is not a nice value (an integer from 0 to 19)`,
      );
  });

  it('goes to the consuming services and the payment service, not to the gateway nor the PSP emulator', () => {
    const nice = Object.fromEntries(PROCESSES.map((p) => [p.name, p.nice]));
    const expected = consumerNice();
    expect(nice).toEqual({
      'ocpp-gateway': 0,
      'session-service': expected,
      'tariff-service': expected,
      'reporting-service': expected,
      'payment-service': expected,
      'psp-emulator': 0,
    });
  });

  it('leaves a command as it is at 0, and runs it through nice(1) otherwise', () => {
    expect(withNice(0, 'node', ['main.js'])).toEqual({ command: 'node', args: ['main.js'] });
    expect(withNice(5, 'node', ['--flag', 'main.js'])).toEqual({
      command: 'nice',
      args: ['-n', '5', 'node', '--flag', 'main.js'],
    });
  });

  it('reaches every thread of the process (the garbage collector and libuv threads too), under the same pid', async () => {
    // a Node process with its worker threads started (crypto work uses the libuv pool), alive until killed
    const run = withNice(7, process.execPath, [
      '-e',
      "require('crypto').pbkdf2Sync('x','y',1,8,'sha256'); require('crypto').pbkdf2('x','y',1,8,'sha256',()=>{}); setInterval(()=>{},1000); console.log('up')",
    ]);
    const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const pid = child.pid!;
      // nice(1) replaced itself with node: the pid is node's
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath);
      const nices = threadNices(pid);
      expect(nices.length).toBeGreaterThan(4);
      expect(nices).toEqual(nices.map(() => 7));
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('docker-compose.yml', () => {
  type Service = { cpu_shares?: number; environment?: Record<string, string>; build?: { args?: { APP?: string } } };
  const compose = load(readFileSync(path.resolve(__dirname, '..', 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, Service>;
  };

  it('runs every process npm start runs, each from its own app', () => {
    for (const p of PROCESSES) expect([p.name, compose.services[p.name]?.build?.args?.APP]).toEqual([p.name, p.name]);
  });

  it('gives the consuming services a lower CPU weight than the gateway, as npm start gives them a lower priority', () => {
    const gateway = compose.services['ocpp-gateway'].cpu_shares ?? 1024;
    for (const p of PROCESSES.filter((x) => x.nice > 0)) {
      const shares = compose.services[p.name].cpu_shares;
      expect([p.name, shares !== undefined && shares < gateway]).toEqual([p.name, true]);
    }
  });

  it('points the payment service and the PSP emulator at each other, with one secret and key from the environment', () => {
    const pay = compose.services['payment-service'].environment!;
    const psp = compose.services['psp-emulator'].environment!;
    expect(pay.PSP_API_URL).toBe(`http://psp-emulator:${psp.HTTP_PORT}`);
    expect(psp.PSP_EMULATOR_WEBHOOK_URL).toBe(`http://payment-service:${pay.PAYMENT_WEBHOOK_PORT}/webhooks/psp`);
    expect(pay.TARIFF_API_URL).toBe(
      `http://tariff-service:${compose.services['tariff-service'].environment!.HTTP_PORT}`,
    );
    // js-yaml leaves the ${...} references as they are: the secrets come from the user's environment, never defaults
    expect(pay.PSP_WEBHOOK_SECRET.split(':')[0]).toBe('${PSP_WEBHOOK_SECRET');
    expect(psp.PSP_EMULATOR_WEBHOOK_SECRET.split(':')[0]).toBe('${PSP_WEBHOOK_SECRET');
    expect(pay.PSP_API_KEY.split(':')[0]).toBe('${PSP_API_KEY');
    expect(psp.PSP_EMULATOR_API_KEY.split(':')[0]).toBe('${PSP_API_KEY');
  });
});
