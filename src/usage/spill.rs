//! The ledger's overflow: records that do not fit the queue, or whose batch the database
//! refused five times, are appended to a file as JSON lines and written to the database later
//! by the writer ("replayed"). Nothing is dropped unless the file itself cannot be written.
//!
//! Files: `<path>` receives appends; to replay, the writer renames it to `<path>.replaying`
//! (new spills start a fresh `<path>`) and records in `<path>.replaying.offset` how far it
//! got after each committed batch, so a crash during a replay resumes where it stopped. Both
//! are replayed at start-up.

use super::ledger::LogRecord;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The append side (the proxy's threads) and the replay side (the writer) of one spill file.
#[derive(Debug)]
pub struct Spill {
    path: PathBuf,
    file: Mutex<Option<File>>,
    /// Records appended since start.
    spilled: AtomicU64,
    /// Records in the files not yet written to the database (an estimate at start-up: 0
    /// until the first replay has read what an earlier run left).
    pending: AtomicU64,
}

impl Spill {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: Mutex::new(None),
            spilled: AtomicU64::new(0),
            pending: AtomicU64::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn replaying_path(&self) -> PathBuf {
        suffixed(&self.path, ".replaying")
    }

    fn offset_path(&self) -> PathBuf {
        suffixed(&self.path, ".replaying.offset")
    }

    /// Appends records, one JSON line each, in one write.
    pub fn append<'a>(&self, records: impl IntoIterator<Item = &'a LogRecord>) -> io::Result<u64> {
        let mut buf = Vec::with_capacity(1024);
        let mut n = 0u64;
        for r in records {
            serde_json::to_writer(&mut buf, r).map_err(io::Error::other)?;
            buf.push(b'\n');
            n += 1;
        }
        if n == 0 {
            return Ok(0);
        }
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let file = match guard.as_mut() {
            Some(file) => file,
            None => guard.insert(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            ),
        };
        if let Err(e) = file.write_all(&buf) {
            // A partial line would poison the replay: start a new file next time.
            *guard = None;
            return Err(e);
        }
        self.spilled.fetch_add(n, Ordering::Relaxed);
        self.pending.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    /// Records spilled since start.
    pub fn spilled(&self) -> u64 {
        self.spilled.load(Ordering::Relaxed)
    }

    /// Records waiting in the spill files.
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }

    /// Whether there is anything to replay: records spilled by this run, or files an earlier
    /// run left.
    pub fn has_work(&self) -> bool {
        self.pending() > 0 || self.replaying_path().exists() || self.path.exists()
    }

    /// Starts a replay: the file being appended to becomes the replay file (unless an
    /// unfinished one exists, which goes first), and its reader is positioned where the last
    /// replay of it stopped.
    pub fn open_replay(&self) -> io::Result<Option<Replay>> {
        let replaying = self.replaying_path();
        if !replaying.exists() {
            let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
            *guard = None;
            match std::fs::rename(&self.path, &replaying) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        let mut file = File::open(&replaying)?;
        let inode = file_id(&file)?;
        // The offset counts only for the file it was written for (an offset file left by a
        // crash after its replay file was removed must not skip records of the next one).
        let offset = std::fs::read_to_string(self.offset_path())
            .ok()
            .and_then(|s| {
                let (id, off) = s.trim().split_once(' ')?;
                (id.parse::<u64>().ok()? == inode).then(|| off.parse::<u64>().ok())?
            })
            .unwrap_or(0);
        file.seek(SeekFrom::Start(offset))?;
        Ok(Some(Replay {
            reader: BufReader::new(file),
            offset,
            inode,
            replaying,
            offset_path: self.offset_path(),
        }))
    }

    /// Counts records written from a replay.
    pub fn replayed(&self, n: u64) {
        let _ = self
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(p.saturating_sub(n))
            });
    }
}

/// A spill file being read back.
pub struct Replay {
    reader: BufReader<File>,
    offset: u64,
    inode: u64,
    replaying: PathBuf,
    offset_path: PathBuf,
}

impl Replay {
    /// Up to `n` records, and how many lines could not be read as one (a line cut by a crash).
    pub fn next_batch(&mut self, n: usize) -> io::Result<(Vec<LogRecord>, u64)> {
        let mut out = Vec::with_capacity(n);
        let mut bad = 0;
        let mut line = Vec::new();
        while out.len() < n {
            line.clear();
            let read = self.reader.read_until(b'\n', &mut line)?;
            if read == 0 {
                break;
            }
            self.offset += read as u64;
            match serde_json::from_slice::<LogRecord>(&line) {
                Ok(r) => out.push(r),
                Err(_) => bad += 1,
            }
        }
        Ok((out, bad))
    }

    /// Remembers that everything read so far is in the database. Written to a temporary
    /// file and renamed over the old one, so a crash never leaves a torn offset (which would
    /// replay the whole file again).
    pub fn commit(&self) -> io::Result<()> {
        let tmp = suffixed(&self.offset_path, ".tmp");
        std::fs::write(&tmp, format!("{} {}", self.inode, self.offset))?;
        std::fs::rename(&tmp, &self.offset_path)
    }

    /// The whole file is in the database: remove it.
    pub fn finish(self) -> io::Result<()> {
        std::fs::remove_file(&self.replaying)?;
        match std::fs::remove_file(&self.offset_path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The file's inode number: which replay file an offset belongs to.
fn file_id(file: &File) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.ino())
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn record(id: &str) -> LogRecord {
        LogRecord {
            request_id: id.into(),
            model: Some("gpt-4o".into()),
            prompt_tokens: 12,
            ..Default::default()
        }
    }

    #[test]
    fn appended_records_replay_in_order_and_resume_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path().join("ledger.spill"));
        assert!(!spill.has_work());
        let recs: Vec<_> = (0..5).map(|i| record(&format!("r{i}"))).collect();
        assert_eq!(spill.append(&recs).unwrap(), 5);
        assert_eq!(spill.pending(), 5);

        let mut replay = spill.open_replay().unwrap().unwrap();
        // Appends during a replay go to a new file.
        spill.append([&record("late")]).unwrap();
        let (batch, bad) = replay.next_batch(2).unwrap();
        assert_eq!((batch.len(), bad), (2, 0));
        assert_eq!(batch[0].request_id, "r0");
        assert_eq!(batch[0].prompt_tokens, 12);
        replay.commit().unwrap();
        drop(replay); // a crash: the rest is read by the next replay

        let mut replay = spill.open_replay().unwrap().unwrap();
        let (batch, _) = replay.next_batch(10).unwrap();
        let ids: Vec<_> = batch.iter().map(|r| r.request_id.as_str()).collect();
        assert_eq!(ids, ["r2", "r3", "r4"]);
        replay.finish().unwrap();

        let mut replay = spill.open_replay().unwrap().unwrap();
        let (batch, _) = replay.next_batch(10).unwrap();
        assert_eq!(batch[0].request_id, "late");
        replay.finish().unwrap();
        assert!(spill.open_replay().unwrap().is_none());
    }

    #[test]
    fn a_torn_line_is_counted_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.spill");
        let spill = Spill::new(path.clone());
        spill.append([&record("a")]).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"request_id\":\"cut")
            .unwrap();
        let mut replay = spill.open_replay().unwrap().unwrap();
        let (batch, bad) = replay.next_batch(10).unwrap();
        assert_eq!((batch.len(), bad), (1, 1));
    }
}
