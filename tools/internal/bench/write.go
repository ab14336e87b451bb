package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// WriteLevels writes each level's records (<level>.jsonl) and summary
// (<level>.summary.json) into dir, creating it. It is for levels held
// whole in memory (the twin's prediction); a live level streams its
// records instead. Each file is written atomically, so a failure (a full
// disk) leaves the file as it was or absent, never empty or cut short;
// the error names the file.
func WriteLevels(dir string, lrs []LevelRun, sums []Summary) error {
	if len(lrs) != len(sums) {
		return fmt.Errorf("writing levels into %s: %d record sets for %d summaries", dir, len(lrs), len(sums))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, s := range sums {
		stem := filepath.Join(dir, LevelName(s.Level))
		err := writeAtomic(stem+RecordsExt, func(w io.Writer) error {
			for _, r := range lrs[i].Records {
				b, err := json.Marshal(r) // as a live level writes them
				if err != nil {
					return err
				}
				if _, err := w.Write(append(b, '\n')); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		data, err := EncodeSummary(s)
		if err != nil {
			return err
		}
		if err := writeAtomic(stem+SummaryExt, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes path in full or not at all: fill writes into a hidden
// temporary file in the same directory (so the rename cannot cross file
// systems, and globs for *.summary.json or *.jsonl never see it), which is
// flushed, fsynced and renamed over path. On any failure the temporary
// file is removed and path is untouched: a reader never finds a 0-byte or
// half-written result. It is the one way result files are written whole.
func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	w := bufio.NewWriter(f)
	if err := fill(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp's 0600 would hide results from other users
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is durable once the directory is; a failure here leaves a
	// complete file in place, so it is not reported as a failed write.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// syncEvery is how often a level's JSONL is fsynced while the level runs,
// off the requests' path: a file system that reports a full disk only at
// fsync (NFS, some FUSE mounts) then stops the level within a second
// instead of after it.
const syncEvery = time.Second

// recordFile streams a level's records to its JSONL file. Records are
// encoded into a buffer and written in batches: whenever the level's
// writer has no record waiting (flush), and whenever the buffer passes
// recordBatchBytes, so a crash loses at most the records of one batch. The
// first failed write or fsync is kept: every later write returns it, the
// file is cut back to its last whole line, and kept says how many records
// are known to be in it.
type recordFile struct {
	f    *os.File
	w    io.Writer    // f, or a test's wrapper around it
	sync func() error // f.Sync, or a test's

	mu      sync.Mutex
	buf     []byte // encoded records not yet written
	pending int    // records in buf
	size    int64  // bytes of whole lines written
	written int    // records written whole
	synced  int    // records covered by the last successful fsync
	err     error  // the first failure
	kept    int    // records known to be in the file when it failed
	quit    chan struct{}
	done    chan struct{}
}

// recordBatchBytes bounds the records buffered before a write.
const recordBatchBytes = 256 << 10

// createRecords creates path for a level's records; wrap (nil: none) lets
// a test put a failing writer between the records and the file.
func createRecords(path string, wrap func(io.Writer) io.Writer) (*recordFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	var w io.Writer = f
	if wrap != nil {
		w = wrap(f)
	}
	return newRecordFile(f, w, f.Sync), nil
}

// newRecordFile writes records to f through w and starts the periodic
// fsync, done by sync.
func newRecordFile(f *os.File, w io.Writer, sync func() error) *recordFile {
	rf := &recordFile{f: f, w: w, sync: sync, quit: make(chan struct{}), done: make(chan struct{})}
	go rf.syncLoop()
	return rf
}

// write encodes one record into the batch, writing the batch once it is
// large.
func (rf *recordFile) write(r Record) error {
	b, err := json.Marshal(r)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.err != nil {
		return rf.err
	}
	if err != nil {
		rf.fail(err, rf.written)
		return rf.err
	}
	rf.buf = append(append(rf.buf, b...), '\n')
	rf.pending++
	if len(rf.buf) >= recordBatchBytes {
		return rf.flushLocked()
	}
	return nil
}

// flush writes the batch.
func (rf *recordFile) flush() error {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.flushLocked()
}

// flushLocked writes the batch; the caller holds mu. A failed or short
// write cuts the file back to the last whole line it wrote (truncating
// frees space, so it works on a full disk), keeping the file a valid JSONL
// of the records before.
func (rf *recordFile) flushLocked() error {
	if rf.err != nil || len(rf.buf) == 0 {
		return rf.err
	}
	n, err := rf.w.Write(rf.buf)
	if err == nil && n < len(rf.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		whole := bytes.LastIndexByte(rf.buf[:max(n, 0)], '\n') + 1
		lines := bytes.Count(rf.buf[:whole], []byte{'\n'})
		_ = rf.f.Truncate(rf.size + int64(whole))
		rf.size += int64(whole)
		rf.written += lines
		rf.fail(err, rf.written)
		return rf.err
	}
	rf.size += int64(len(rf.buf))
	rf.written += rf.pending
	rf.buf, rf.pending = rf.buf[:0], 0
	if cap(rf.buf) > 4*recordBatchBytes {
		rf.buf = nil
	}
	return nil
}

// fail keeps the first failure and how many records survive it; the
// caller holds mu.
func (rf *recordFile) fail(err error, kept int) {
	if rf.err == nil {
		rf.err, rf.kept = err, kept
	}
}

// syncLoop fsyncs the file every syncEvery until close. A failure is kept
// and returned by the next write, which stops the level.
func (rf *recordFile) syncLoop() {
	defer close(rf.done)
	t := time.NewTicker(syncEvery)
	defer t.Stop()
	for {
		select {
		case <-rf.quit:
			return
		case <-t.C:
			rf.syncNow()
		}
	}
}

// syncNow writes the batch and fsyncs what has been written so far. Records written while the
// fsync runs are not counted as synced: they may or may not be covered.
func (rf *recordFile) syncNow() {
	rf.mu.Lock()
	if rf.flushLocked() != nil {
		rf.mu.Unlock()
		return
	}
	n := rf.written
	rf.mu.Unlock()
	err := rf.sync()
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if err != nil {
		rf.fail(fmt.Errorf("fsync: %w", err), rf.synced)
		return
	}
	rf.synced = max(rf.synced, n)
}

// close stops the periodic fsync, fsyncs a last time and closes the file.
// It returns the first failure of the file's whole life, with the number
// of records known to be in the file.
func (rf *recordFile) close() (kept int, err error) {
	_ = rf.flush()
	close(rf.quit)
	<-rf.done
	rf.syncNow()
	cerr := rf.f.Close()
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if cerr != nil {
		rf.fail(cerr, rf.synced)
	}
	if rf.err != nil {
		return rf.kept, rf.err
	}
	return rf.written, nil
}

// WriteFileAtomic writes data to path in full or not at all (writeAtomic),
// for every other result file (plan.json, state.json, cost.json, reports).
func WriteFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
