// Debian's Chromium as every browser tool here launches it: the path (or CHROME_PATH) and the
// flags. Without the background-networking flags Chromium reaches for the internet at every
// start; as root it needs --no-sandbox (TOOLCHAIN.md).

/** The Chromium binary: `CHROME_PATH`, else Debian's. */
export const CHROMIUM_PATH = process.env.CHROME_PATH || '/usr/bin/chromium';

/** Launch flags for headless runs on these machines. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
