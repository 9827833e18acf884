import type { Command } from '@commander-js/extra-typings';
import { setPeerLine } from '../../shipping/setPeerLine.js';
import { describeSite, type SiteDescription } from '../../site/describeSite.js';
import { initSite } from '../../site/initSite.js';
import { emit, jsonOption, siteCommand, siteHome, type Io } from '../context.js';
import { integerArg } from '../numberArgs.js';

function describe(d: SiteDescription): string {
  return [
    `Site ${d.host} (home ${d.home})`,
    `  url:        ${d.url}`,
    `  admin url:  ${d.adminUrl}`,
    `  public key: ${d.publicKey}`,
    `  recipient:  ${d.recipient ?? 'none'}`,
  ].join('\n');
}

/** `msite site init|show|peer`: the site's identity and its peers. */
export function registerSiteCommands(program: Command, io: Io): void {
  const site = program.command('site').description("the site's identity: name, ports, key and certificate, peers");
  const port = (flag: string) => integerArg(flag, { min: 1, max: 65535 });

  siteCommand(site, 'init', 'create or update the site home: name, ports, key and certificate, shipping.conf, bays, logs')
    .option('--host <name>', "the site's name as its peers and replicas know it (default the machine's)")
    .option('--port <n>', 'peer listener port (default 7071)', port('--port'))
    .option('--admin-port <n>', 'admin listener port, on 127.0.0.1 (default 7072)', port('--admin-port'))
    .option('--listen <addr>', 'address the peer listener binds to (default every interface)')
    .addOption(jsonOption())
    .action(async (_o, cmd) => {
      const opts = cmd.optsWithGlobals();
      const d = await initSite(siteHome(io, opts), {
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.adminPort !== undefined ? { adminPort: opts.adminPort } : {}),
        ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
      });
      emit(io, opts, d, () => describe(d));
    });

  siteCommand(site, 'show', "print the site's name, where it listens and its public key")
    .addOption(jsonOption())
    .action((_o, cmd) => {
      const opts = cmd.optsWithGlobals();
      const d = describeSite(siteHome(io, opts));
      emit(io, opts, d, () => describe(d));
    });

  siteCommand(site, 'peer', "add or replace HOST's PEER line in shipping.conf")
    .argument('<host>', "the peer's host name")
    .argument('<url>', "where its peer listener is, e.g. https://sanfran_hub:7071 (its msite site show's url)")
    .argument('<public-key>', 'its key, as its msite site show prints it')
    .argument('[recipient]', 'the key packets for it are encrypted to')
    .action((host, url, publicKey, recipient, _o, cmd) => {
      const opts = cmd.optsWithGlobals();
      const home = siteHome(io, opts);
      const replaced = setPeerLine(home.shippingConfFile, { host, url, publicKey, ...(recipient !== undefined ? { recipient } : {}) });
      io.out(`${replaced ? 'Replaced' : 'Added'} PEER ${host} in ${home.shippingConfFile}\n`);
    });
}
