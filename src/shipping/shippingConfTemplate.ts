/** Where the template names the receipt handler until `shippingConfTemplate` puts the site's own there. */
const HANDLER_PLACEHOLDER = '/usr/local/bin/sync_receive_handler';

/**
 * The shipping.conf `msite site init` writes when a site home has none: every directive, explained and
 * commented out, except the storage and return bays, which name the site's defaults (relative paths
 * are taken from the directory holding shipping.conf, the site home).
 */
export const SHIPPING_CONF_TEMPLATE = `# shipping.conf: how this site ships packets. One directive a line; "#" starts a comment.
# A directive applies to the default class unless it says "-class CLASS" (repeatable); "-default"
# names the default class. A class without a setting of its own uses the default class's.

# Who is told about expired, returned or failed shipments (and scheduled jobs that name no one).
# ADMINISTRATOR [-class C] ADDRESS...
#ADMINISTRATOR root

# Where packets and their orders wait: DIR/incoming for arrivals, DIR/outgoing for departures.
# STORAGE-BAY [-class C] DIR
STORAGE-BAY shipping/ms_ship

# Where orders that expired before delivery come back to.
# RETURN-BAY [-class C] DIR
RETURN-BAY shipping/ms_rtn

# Days before an undelivered order expires and is returned (default 14).
# EXPIRATION [-class C] DAYS
#EXPIRATION 14

# Program that tells administrators: run as PROGRAM -s SUBJECT -f MSGFILE ADDRESS...
# NOTIFICATION-PROGRAM [-class C] PATH
#NOTIFICATION-PROGRAM /usr/local/bin/notify

# Program run for each packet received: HANDLER -o ORIGIN -d PACKET -a ORDER -s CLASS
# RECEIPT-HANDLER [-class C] PATH
# The handler below, written by "msite site init", imports each packet as it arrives (msite
# sync_receive); uncomment the line to use it, with or instead of a scheduled sync_receive.
#RECEIPT-HANDLER -default ${HANDLER_PLACEHOLDER}

# Deliver packets for DEST... through NEXT-HOP instead of directly.
# ROUTE [-class C] NEXT-HOP DEST...
#ROUTE sanfran_hub bangalore

# Largest packet an export writes and this site receives (default and maximum 2097151k).
# MAX-DATA-SIZE [-class C] SIZE[k|m|g]
#MAX-DATA-SIZE 2097151k

# Port range for MultiSite's own transport (host-wide).
# CLEARCASE_MIN_PORT PORT
# CLEARCASE_MAX_PORT PORT
#CLEARCASE_MIN_PORT 49152
#CLEARCASE_MAX_PORT 65535

# The sites this one exchanges packets with (host-wide): where HOST's daemon listens, the key it
# authenticates with (as "msite site show" prints it), and the age recipient packets for it are
# sealed to when they go through a relay (needed then, for every destination of the packet).
# "msite site peer HOST URL PUBLIC-KEY [RECIPIENT]" adds or replaces a line.
# PEER HOST URL PUBLIC-KEY [RECIPIENT]
#PEER sanfran_hub https://sanfran_hub:7071 ed25519:... age1...
`;

/** The template with its commented RECEIPT-HANDLER line naming `receiptHandler` (the site's sync_receive handler). */
export function shippingConfTemplate(receiptHandler: string): string {
  return SHIPPING_CONF_TEMPLATE.replace(`#RECEIPT-HANDLER -default ${HANDLER_PLACEHOLDER}`, `#RECEIPT-HANDLER -default ${receiptHandler}`);
}
