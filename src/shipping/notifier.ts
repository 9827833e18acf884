import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino, type Logger } from 'pino';
import { isoTime, systemClock, type Clock } from '../core/clock.js';
import { toMsiteError } from '../core/errors.js';
import { administrators, loadShippingConf, notificationProgram } from './shippingConf.js';
import type { Spawner } from '../core/spawner.js';

export interface Notification {
  subject: string;
  body: string;
  /** Addresses; empty means shipping.conf's ADMINISTRATOR. */
  recipients: readonly string[];
  /** The storage class whose ADMINISTRATOR and NOTIFICATION-PROGRAM apply. Default: the default class. */
  storageClass?: string;
}

export interface NotifierOptions {
  spawner: Spawner;
  /** shipping.conf, read at each notification so an edit applies without a restart. Absent: defaults. */
  shippingConf?: string;
  /** Where a notification that could not be delivered is appended, so it is never lost. */
  undeliveredLog?: string;
  logger?: Logger;
  /** Stamps the undelivered log. Default: the system clock. */
  clock?: Clock;
}

export interface NotifyOutcome {
  delivered: boolean;
  recipients: string[];
  /** Why it was not delivered. */
  reason?: string;
}

/** The program used when shipping.conf names none: `mail`, given the message on standard input. */
export const DEFAULT_MAIL_PROGRAM = 'mail';

/**
 * Sends notifications the MultiSite way: shipping.conf's NOTIFICATION-PROGRAM is invoked as
 * `PROGRAM -s SUBJECT -f MSGFILE ADDRESS...`. Without one, `mail -s SUBJECT ADDRESS...` gets the message
 * on its standard input (what MultiSite's notify does on UNIX). A failure to notify never fails the job:
 * it is logged, and the notification appended to `undeliveredLog`.
 */
export class Notifier {
  private readonly logger: Logger;

  constructor(private readonly options: NotifierOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  /** Sends one notification; resolves when the program has exited. Never rejects. */
  async send(notification: Notification): Promise<NotifyOutcome> {
    let recipients = [...notification.recipients];
    let program: string | undefined;
    try {
      const conf = this.options.shippingConf === undefined ? undefined : loadShippingConf(this.options.shippingConf);
      if (conf) program = notificationProgram(conf, notification.storageClass);
      if (recipients.length === 0) recipients = conf ? administrators(conf, notification.storageClass) : ['root'];
    } catch (err) {
      return this.undelivered(notification, recipients, `shipping.conf unusable: ${toMsiteError(err).message}`);
    }
    let msgDir: string | undefined;
    try {
      let command: string;
      let args: string[];
      let input: string | undefined;
      if (program !== undefined) {
        msgDir = mkdtempSync(join(tmpdir(), 'msite-notify-'));
        const msgFile = join(msgDir, 'message');
        writeFileSync(msgFile, notification.body);
        command = program;
        args = ['-s', notification.subject, '-f', msgFile, ...recipients];
      } else {
        command = DEFAULT_MAIL_PROGRAM;
        args = ['-s', notification.subject, ...recipients];
        input = notification.body;
      }
      const child = this.options.spawner.spawn(command, args, input === undefined ? {} : { input });
      const output: Buffer[] = [];
      child.onOutput((chunk) => output.push(chunk));
      const exit = await child.exit;
      const said = Buffer.concat(output).toString('utf8').trim();
      if (exit.startError !== undefined || exit.status !== 0) {
        const why = exit.startError ?? `${command} exited with status ${exit.status}${said === '' ? '' : `: ${said}`}`;
        return this.undelivered(notification, recipients, why);
      }
      this.logger.info({ subject: notification.subject, recipients, program: command }, 'notification sent');
      return { delivered: true, recipients };
    } catch (err) {
      return this.undelivered(notification, recipients, toMsiteError(err).message);
    } finally {
      if (msgDir !== undefined) rmSync(msgDir, { recursive: true, force: true });
    }
  }

  private undelivered(notification: Notification, recipients: string[], reason: string): NotifyOutcome {
    this.logger.warn({ subject: notification.subject, recipients, reason }, 'notification not delivered');
    const log = this.options.undeliveredLog;
    if (log !== undefined) {
      try {
        mkdirSync(dirname(log), { recursive: true });
        const head = `--- ${isoTime((this.options.clock ?? systemClock).now())} to ${recipients.join(', ')} (not delivered: ${reason})`;
        appendFileSync(log, `${head}\nSubject: ${notification.subject}\n\n${notification.body}\n`);
      } catch (err) {
        this.logger.error({ err: toMsiteError(err).message, log }, 'cannot write the undelivered-notification log');
      }
    }
    return { delivered: false, recipients, reason };
  }
}

/**
 * The notifier of a site home: `<home>/shipping.conf` names the program and the administrator, and
 * what cannot be delivered goes to `<home>/log/undelivered-notifications.log`.
 */
export function siteNotifier(home: string, spawner: Spawner, options: { logger?: Logger; clock?: Clock } = {}): Notifier {
  return new Notifier({
    spawner,
    shippingConf: join(home, 'shipping.conf'),
    undeliveredLog: join(home, 'log', 'undelivered-notifications.log'),
    ...options,
  });
}
