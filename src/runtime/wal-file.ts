/**
 * Syncing an embedded database's WAL file from the runtime's I/O threads (Bun and Node run
 * node:fs promises there), for src/queue/wal-sync.ts. The file is opened for each sync:
 * a descriptor kept open could outlive the file it names.
 */
import { open } from "node:fs/promises";

export function walFileSync(databasePath: string): () => Promise<void> {
  const wal = `${databasePath}-wal`;
  return async () => {
    const file = await open(wal, "r");
    try {
      // fdatasync: the frames and the file's new length, what reading them back needs.
      await file.datasync();
    } finally {
      await file.close();
    }
  };
}
