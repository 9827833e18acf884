/** Debian's chromium (apt-get install chromium): the only browser the dashboard's test and bench drive. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Its command line for a headless run on a machine with no way out: without the background-networking
 * flags it keeps trying to reach its vendor's hosts, and each refused connection costs time.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
