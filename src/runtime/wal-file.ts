/**
 * Syncing an embedded database's WAL file from the runtime's I/O threads (Bun and Node run
 * node:fs promises there), for src/db/wal-sync.ts. One descriptor for the database's
 * life: SQLite removes the WAL file only when the last connection to the database closes,
 * and this process holds connections for as long as it syncs (a TRUNCATE checkpoint keeps
 * the same file). Opening it anew per sync cost more than the sync's own call here.
 */
import { open, type FileHandle } from "node:fs/promises";

export interface WalFileSync {
  (): Promise<void>;
  close(): Promise<void>;
}

export function walFileSync(databasePath: string): WalFileSync {
  const wal = `${databasePath}-wal`;
  let handle: Promise<FileHandle> | null = null;
  const sync = async () => {
    handle ??= open(wal, "r");
    let file: FileHandle;
    try {
      file = await handle;
    } catch (err) {
      handle = null; // not there yet: the next sync looks again
      throw err;
    }
    // fdatasync: the frames and the file's new length, what reading them back needs.
    await file.datasync();
  };
  return Object.assign(sync, {
    async close() {
      const h = handle;
      handle = null;
      await (await h?.catch(() => null))?.close();
    },
  });
}
