// The browser the console's tests drive: Debian's Chromium. `npm test` installs it when it is
// missing and we are root (apt-get), or stops with one sentence saying how.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const chromiumPath = process.env.OMS_CHROMIUM ?? '/usr/bin/chromium';

/** Makes sure Chromium is there; false (after saying why) when it is not and cannot be installed. */
export function ensureChromium(log: (line: string) => void): boolean {
  if (existsSync(chromiumPath)) return true;
  const aptGet = '/usr/bin/apt-get';
  if (process.getuid?.() !== 0 || !existsSync(aptGet)) {
    console.error(`\n✖ The console's browser tests need Chromium at ${chromiumPath}: install it (on Debian or Ubuntu: sudo apt-get install chromium) or set OMS_CHROMIUM to a Chromium binary, then run npm test again.`);
    return false;
  }
  log('installing Chromium for the browser tests (apt-get install chromium, first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync(aptGet, ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  if (r.status !== 0) {
    // The package lists may be missing or stale on a fresh machine.
    spawnSync(aptGet, ['update'], { stdio: 'inherit', env });
    r = spawnSync(aptGet, ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  }
  if (r.status !== 0 || !existsSync(chromiumPath)) {
    console.error(`\n✖ Installing Chromium with apt-get failed (exit ${r.status}); install the chromium package by hand and run npm test again.`);
    return false;
  }
  return true;
}
