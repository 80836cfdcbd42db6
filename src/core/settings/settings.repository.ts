import type { Db } from "../../db/database.js";

/** Installation-wide values (generated secrets and the like), one row per key. */
export function createSettingsRepository(db: Db) {
  return {
    /**
     * The value stored under `key`, storing `candidate` first when there is none. Atomic across
     * instances: whoever inserts first wins and every caller reads that same value back.
     */
    async getOrCreate(key: string, candidate: string, tx: Db = db): Promise<string> {
      await tx.$executeRaw`INSERT INTO settings (key, value) VALUES (${key}, ${candidate}) ON CONFLICT (key) DO NOTHING`;
      const row = await tx.setting.findUnique({ where: { key }, select: { value: true } });
      // Rows are never deleted, so the row just inserted or kept is there.
      if (!row) throw new Error(`setting ${key} vanished after insert`);
      return row.value;
    },
    async get(key: string, tx: Db = db): Promise<string | null> {
      const row = await tx.setting.findUnique({ where: { key }, select: { value: true } });
      return row?.value ?? null;
    },
  };
}

export type SettingsRepository = ReturnType<typeof createSettingsRepository>;
