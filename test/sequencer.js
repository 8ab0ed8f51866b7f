const Sequencer = require('@jest/test-sequencer').default;

/**
 * Jest starts the files it knows to be slow first (from its cache of the last run), so that no worker is left
 * with a long file at the end. Without that cache (a fresh clone, CI) it goes by file size; these folders hold the
 * files that wait longest (fault scenarios, child processes, end-to-end runs, the largest inputs), so among the
 * files it knows nothing about, theirs start first.
 */
const SLOW_FOLDERS = ['faults', 'process', 'e2e', 'bounded'];

function folderRank(test) {
  const rank = SLOW_FOLDERS.findIndex((folder) => test.path.includes(`/test/${folder}/`));
  return rank === -1 ? SLOW_FOLDERS.length : rank;
}

class SlowFoldersFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    // Array.prototype.sort is stable: within a folder, jest's own order (largest file first) stays.
    const unknown = sorted.filter((test) => test.duration == null).sort((a, b) => folderRank(a) - folderRank(b));
    let next = 0;
    return sorted.map((test) => (test.duration == null ? unknown[next++] : test));
  }
}

module.exports = SlowFoldersFirst;
