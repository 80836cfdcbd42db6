import { NOTIFICATION_FORMATS } from "./api/notification-formats.js";
import { createTestPaymentProvider } from "./core/payments/test-provider.js";
import { createServices } from "./core/services.js";
import { type Clock, systemClock } from "./core/time.js";
import type { Database } from "./db/database.js";

/**
 * The core wired with what it is given from outside: each API's notification format and the
 * payment provider (test mode: the built-in test provider). The server, the CLI and the tests
 * all build their services here.
 */
export function createKassaServices(db: Database, clock: Clock = systemClock) {
  return createServices(db, clock, {
    notificationFormats: NOTIFICATION_FORMATS,
    paymentProvider: createTestPaymentProvider(),
  });
}
