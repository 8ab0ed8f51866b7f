import { stat } from 'node:fs/promises';

/**
 * Calls `onChange` when a watched file changes. Kubernetes updates a mounted Secret or ConfigMap by swapping the
 * `..data` symlink of its directory, which inotify on the file itself does not see: the files are polled with
 * stat(), which follows the symlinks, so a swap shows as a new inode. The first poll always calls `onChange`, which
 * catches a change between the caller's own first read and the first stat.
 */

export interface FileWatchOptions {
  files: readonly string[];
  /** Awaited before the next poll: two changes in a row never run it concurrently. */
  onChange: () => void | Promise<void>;
  /** How often each file is stat()ed. */
  intervalMs: number;
}

/** What identifies a file's content without reading it; a missing or unreadable file has a stamp too. */
async function stamp(file: string): Promise<string> {
  try {
    const { ino, mtimeMs, size } = await stat(file);
    return `${ino}:${mtimeMs}:${size}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unreadable';
  }
}

/** Returns the function that stops watching. */
export function watchFiles(options: FileWatchOptions): () => void {
  const { files } = options;
  if (files.length === 0) return () => undefined;
  let stamps: string[] | undefined;
  let polling = false;

  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      const next = await Promise.all(files.map(stamp));
      if (!stamps || next.some((value, i) => value !== stamps![i])) await options.onChange();
      stamps = next;
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
