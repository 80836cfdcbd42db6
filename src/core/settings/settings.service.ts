import { randomBytes } from "node:crypto";
import type { SettingsRepository } from "./settings.repository.js";

/** Keys of the installation-wide secrets Kassa generates for itself. */
export const SETTING_KEYS = {
  checkoutPageSecret: "checkout_page.csrf_secret",
} as const;

export function createSettingsService(deps: { settings: Pick<SettingsRepository, "getOrCreate"> }) {
  const { settings } = deps;
  return {
    /**
     * A random secret (32 bytes, base64url) generated the first time any instance asks for it and
     * kept in the store, so every instance of one installation signs and verifies alike.
     */
    installationSecret(key: string): Promise<string> {
      return settings.getOrCreate(key, randomBytes(32).toString("base64url"));
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
