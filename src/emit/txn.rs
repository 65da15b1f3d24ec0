//! The output folder of `gen` as a transaction: a lock, a staging area
//! beside the tree (inside `.kubeproof/`, so on the same filesystem), a
//! commit record, and roll-forward recovery. [`super::files`] decides what
//! to write; this module makes it happen all or nothing.
//!
//! Protocol, under an exclusive `flock` on `.kubeproof/lock`:
//! 1. every new file and the new hash record are written under
//!    `.kubeproof/staging/`, then synced together (one `syncfs`); a failure
//!    here removes the staging area and the tree is exactly as before;
//! 2. the commit record `.kubeproof/commit` (files to move in, files to
//!    delete with their hashes) is written to a temporary name, synced and
//!    renamed: this rename is the commit point;
//! 3. staged files are renamed over their targets, stale files deleted, the
//!    hash record renamed last, all of it synced, the record and staging area
//!    removed. Each step is idempotent, so a run killed here is completed by
//!    the next one, before it reads anything.
//!
//! Nothing is ever read, written or deleted through a symbolic link or a
//! non-folder inside the output folder, nor on another filesystem.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::files::{MANIFEST, WriteError, rel_key};
use crate::model::digest::sha256_hex;

const OWN_DIR: &str = ".kubeproof";
const LOCK: &str = ".kubeproof/lock";
const STAGING: &str = ".kubeproof/staging";
const COMMIT: &str = ".kubeproof/commit";
const COMMIT_TMP: &str = ".kubeproof/commit.tmp";
const HEADER: &str = "kubeproof-commit 1";
/// The temporary-file prefix of kubeproof before transactions: leftovers of
/// killed runs are removed when seen.
const LEGACY_TMP: &str = ".kubeproof-tmp-";

/// What is at a generated path inside the output folder, looked at without
/// following links.
pub(super) enum Found {
    Absent,
    File(Vec<u8>),
    /// A folder: never replaced.
    Dir,
    /// A link, FIFO, socket or device: not a file kubeproof wrote.
    Other,
    /// A folder on the way is a regular file (or other non-folder).
    Blocked(PathBuf),
}

/// The changes one run commits: files to write, and files to delete if
/// they still have the recorded hash.
pub(super) struct Changes<'a> {
    pub writes: Vec<(&'a str, &'a [u8])>,
    pub removals: Vec<(String, String)>,
    pub manifest: String,
}

/// An output folder, locked for this process until dropped.
pub(super) struct Out {
    root: PathBuf,
    dev: u64,
    _lock: File,
}

impl Out {
    /// Creates the folder if needed, takes the lock (waiting for another
    /// `gen` that holds it), and completes or discards what a killed run left.
    pub fn open(root: &Path) -> Result<Out, WriteError> {
        match fs::metadata(root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(WriteError::NotAFolder(root.to_path_buf())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir_all(root).map_err(|e| io_err(root, e))?,
            Err(e) => return Err(io_err(root, e)),
        }
        let dev = fs::metadata(root).map_err(|e| io_err(root, e))?.dev();
        let own = root.join(OWN_DIR);
        match fs::symlink_metadata(&own) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => return Err(WriteError::Link(own)),
            Ok(_) => return Err(WriteError::NotAFolder(own)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&own).map_err(|e| io_err(&own, e))?,
            Err(e) => return Err(io_err(&own, e)),
        }
        let lock_path = root.join(LOCK);
        check_regular_or_absent(&lock_path)?;
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o666)
            .open(&lock_path)
            .map_err(|e| io_err(&lock_path, e))?;
        // Blocks while another `gen` writes here: the second run then plans
        // against the first one's result.
        lock.lock().map_err(|e| io_err(&lock_path, e))?;
        let out = Out { root: root.to_path_buf(), dev, _lock: lock };
        out.recover()?;
        Ok(out)
    }

    /// The bytes of the hash record, if there is one.
    pub fn read_manifest(&self) -> Result<Option<Vec<u8>>, WriteError> {
        match self.look(MANIFEST)? {
            Found::File(bytes) => Ok(Some(bytes)),
            Found::Absent => Ok(None),
            _ => Err(WriteError::NotRegular(self.root.join(MANIFEST))),
        }
    }

    /// What is at `key`, reading a regular file; a link among the folders on
    /// the way, or a folder on another filesystem, is an error.
    pub fn look(&self, key: &str) -> Result<Found, WriteError> {
        let mut path = self.root.clone();
        let parts: Vec<&str> = key.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            path.push(part);
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Absent),
                Err(e) => return Err(io_err(&path, e)),
            };
            let last = i + 1 == parts.len();
            let kind = meta.file_type();
            if kind.is_symlink() && !last {
                return Err(WriteError::Link(path));
            }
            if meta.dev() != self.dev && !kind.is_symlink() {
                return Err(WriteError::OtherFilesystem(path));
            }
            if last {
                return Ok(match () {
                    () if kind.is_file() => Found::File(fs::read(&path).map_err(|e| io_err(&path, e))?),
                    () if kind.is_dir() => Found::Dir,
                    () => Found::Other,
                });
            }
            if !kind.is_dir() {
                return Ok(Found::Blocked(path));
            }
        }
        Ok(Found::Absent)
    }

    /// Removes the temporary files of older kubeproof versions killed while
    /// writing, from the folders generated files go to.
    pub fn clean_legacy_temporaries<'k>(&self, keys: impl Iterator<Item = &'k str>) -> Result<(), WriteError> {
        let dirs: BTreeSet<&str> = keys.map(|k| k.rsplit_once('/').map_or("", |(d, _)| d)).collect();
        for dir in dirs {
            if !dir.is_empty() && !matches!(self.look(dir)?, Found::Dir) {
                continue;
            }
            let path = self.root.join(dir);
            for entry in fs::read_dir(&path).map_err(|e| io_err(&path, e))?.flatten() {
                let ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(LEGACY_TMP));
                if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
                    fs::remove_file(entry.path()).map_err(|e| io_err(&entry.path(), e))?;
                }
            }
        }
        Ok(())
    }

    /// Stages every change, commits, and applies. Before the commit point a
    /// failure leaves the tree untouched; after it, the next run completes it.
    pub fn commit(&self, changes: &Changes) -> Result<(), WriteError> {
        let staging = self.root.join(STAGING);
        remove_dir_all_if_exists(&staging)?;
        let record = Record {
            writes: changes.writes.iter().map(|(k, _)| (*k).to_owned()).collect(),
            removals: changes.removals.clone(),
        };
        if let Err(e) = self.stage(&staging, changes, &record) {
            let _ = fs::remove_dir_all(&staging);
            let _ = fs::remove_file(self.root.join(COMMIT_TMP));
            return Err(e);
        }
        self.apply(&record).map_err(|e| WriteError::Committed(Box::new(e)))
    }

    fn stage(&self, staging: &Path, changes: &Changes, record: &Record) -> Result<(), WriteError> {
        let files = staging.join("files");
        fs::create_dir_all(&files).map_err(|e| io_err(&files, e))?;
        let mut made = BTreeSet::from([files.clone()]);
        for (key, _) in &changes.writes {
            if let Some(dir) = files.join(key).parent()
                && !made.contains(dir)
            {
                fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
                made.insert(dir.to_path_buf());
            }
        }
        in_two(&changes.writes, |(key, bytes)| write_new(&files.join(key), bytes, &self.root.join(key)))?;
        write_new(&staging.join("manifest"), changes.manifest.as_bytes(), &self.root.join(MANIFEST))?;
        // Every staged file and folder on disk before the commit point.
        sync_fs(staging)?;
        // The commit point: the record appears whole, or not at all.
        let tmp = self.root.join(COMMIT_TMP);
        let _ = fs::remove_file(&tmp);
        write_new(&tmp, record.render().as_bytes(), &tmp)?;
        sync_file(&tmp)?;
        let commit = self.root.join(COMMIT);
        fs::rename(&tmp, &commit).map_err(|e| io_err(&commit, e))?;
        sync_dir(&self.root.join(OWN_DIR))
    }

    /// Completes a committed run, or discards the staging area of one killed
    /// before its commit point.
    fn recover(&self) -> Result<(), WriteError> {
        let commit = self.root.join(COMMIT);
        match self.look(COMMIT)? {
            Found::File(bytes) => match Record::parse(&bytes) {
                Some(record) => return self.apply(&record).map_err(|e| WriteError::Committed(Box::new(e))),
                // Cannot be ours (the record is renamed into place whole):
                // applying part of it would be a guess.
                None => fs::remove_file(&commit).map_err(|e| io_err(&commit, e))?,
            },
            Found::Absent => {}
            _ => return Err(WriteError::NotRegular(commit)),
        }
        let _ = fs::remove_file(self.root.join(COMMIT_TMP));
        remove_dir_all_if_exists(&self.root.join(STAGING))
    }

    /// Moves staged files in, deletes stale ones, installs the hash record
    /// last; every step can be repeated after an interruption.
    fn apply(&self, record: &Record) -> Result<(), WriteError> {
        let files = self.root.join(STAGING).join("files");
        let mut made = BTreeSet::new();
        // A folder the tree does not have is moved in whole: one rename
        // instead of one per file (a first `gen` of kailash: 5, not 414).
        // Should it appear meanwhile, its files are moved one by one.
        let mut whole = Vec::new();
        for dir in self.absent_folders(&record.writes)? {
            let to = self.make_parents(dir, &mut made)?;
            if fs::rename(files.join(dir), to).is_ok() {
                whole.push(dir);
            }
        }
        let inside = |key: &str| whole.iter().any(|d| key.strip_prefix(d).is_some_and(|rest| rest.starts_with('/')));
        let mut moves = Vec::with_capacity(record.writes.len());
        for key in record.writes.iter().filter(|k| !inside(k)) {
            moves.push((files.join(key), self.make_parents(key, &mut made)?));
        }
        in_two(&moves, |(from, to)| match fs::rename(from, to) {
            // Moved in before an interruption.
            Err(_) if fs::symlink_metadata(from).is_err() => Ok(()),
            moved => moved.map_err(|e| io_err(to, e)),
        })?;
        for (hash, key) in &record.removals {
            // A link placed on the way since the plan: skipped, never followed.
            if let Ok(Found::File(bytes)) = self.look(key)
                && sha256_hex(&bytes) == *hash
            {
                let path = self.root.join(key);
                fs::remove_file(&path).map_err(|e| io_err(&path, e))?;
                self.remove_empty_parents(&path);
            }
        }
        let staged = self.root.join(STAGING).join("manifest");
        if fs::symlink_metadata(&staged).is_ok() {
            let manifest = self.root.join(MANIFEST);
            fs::rename(&staged, &manifest).map_err(|e| io_err(&manifest, e))?;
        }
        // Every rename and removal on disk before the record goes.
        sync_fs(&self.root)?;
        let commit = self.root.join(COMMIT);
        fs::remove_file(&commit).map_err(|e| io_err(&commit, e))?;
        sync_dir(&self.root.join(OWN_DIR))?;
        remove_dir_all_if_exists(&self.root.join(STAGING))
    }

    /// The outermost folders of `keys` that the tree does not have.
    fn absent_folders<'k>(&self, keys: &'k [String]) -> Result<Vec<&'k str>, WriteError> {
        let (mut absent, mut present) = (Vec::new(), BTreeSet::new());
        for key in keys {
            for (i, _) in key.match_indices('/') {
                let dir = &key[..i];
                if absent.contains(&dir) {
                    break;
                }
                if present.contains(dir) {
                    continue;
                }
                if let Found::Absent = self.look(dir)? {
                    absent.push(dir);
                    break;
                }
                // A folder, or what `make_parents` refuses.
                present.insert(dir);
            }
        }
        Ok(absent)
    }

    /// Creates the folders of `key` (refusing links and non-folders on the
    /// way) and returns its path. `made` holds the folders this run already
    /// looked at: hundreds of files share a few dozen folders.
    fn make_parents(&self, key: &str, made: &mut BTreeSet<PathBuf>) -> Result<PathBuf, WriteError> {
        let mut path = self.root.clone();
        let parts: Vec<&str> = key.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            path.push(part);
            if made.contains(&path) {
                continue;
            }
            made.insert(path.clone());
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => return Err(WriteError::Link(path)),
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(WriteError::NotAFolder(path)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&path).map_err(|e| io_err(&path, e))?,
                Err(e) => return Err(io_err(&path, e)),
            }
        }
        path.push(parts[parts.len() - 1]);
        Ok(path)
    }

    /// Removes folders left empty by a deletion, up to but never including
    /// the output folder.
    fn remove_empty_parents(&self, file: &Path) {
        let mut dir = file.parent();
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || fs::remove_dir(d).is_err() {
                return;
            }
            dir = d.parent();
        }
    }
}

/// The commit record: `write KEY` and `remove HASH  KEY` lines between a
/// header and an `end` line.
struct Record {
    writes: Vec<String>,
    removals: Vec<(String, String)>,
}

impl Record {
    fn render(&self) -> String {
        let mut text = format!("{HEADER}\n");
        for key in &self.writes {
            text.push_str(&format!("write {key}\n"));
        }
        for (hash, key) in &self.removals {
            text.push_str(&format!("remove {hash}  {key}\n"));
        }
        text.push_str("end\n");
        text
    }

    fn parse(bytes: &[u8]) -> Option<Record> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let mut record = Record { writes: Vec::new(), removals: Vec::new() };
        for line in lines {
            if line == "end" {
                return Some(record);
            }
            if let Some(key) = line.strip_prefix("write ") {
                record.writes.push(rel_key(Path::new(key))?);
            } else {
                let (hash, key) = line.strip_prefix("remove ")?.split_once("  ")?;
                record.removals.push((hash.to_owned(), rel_key(Path::new(key))?));
            }
        }
        None
    }
}

/// A new file (never an existing one, never through a link) with the
/// user's umask, written, not yet synced (see [`sync_fs`]); its folder
/// exists. `shown` names it in errors.
fn write_new(path: &Path, bytes: &[u8], shown: &Path) -> Result<(), WriteError> {
    let mut file =
        OpenOptions::new().write(true).create_new(true).mode(0o666).open(path).map_err(|e| io_err(shown, e))?;
    file.write_all(bytes).map_err(|e| io_err(shown, e))
}

/// `each` of `items`, the second half on a thread of its own: hundreds of
/// files are created or renamed one system call at a time (on kailash, 15
/// of `gen`'s 110 ms, with a core idle). The first error in the items'
/// order; without a thread, all of them here.
fn in_two<T: Sync>(items: &[T], each: impl Fn(&T) -> Result<(), WriteError> + Sync) -> Result<(), WriteError> {
    let all = |part: &[T]| part.iter().try_for_each(&each);
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new().spawn_scoped(scope, || all(second));
        let mine = all(first);
        let theirs = match other {
            Ok(thread) => thread.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            Err(_) => all(second),
        };
        mine.and(theirs)
    })
}

fn sync_file(path: &Path) -> Result<(), WriteError> {
    File::open(path).and_then(|f| f.sync_all()).map_err(|e| io_err(path, e))
}

/// Puts everything written to the filesystem of `dir` on disk: one
/// `syncfs`, where syncing each of 400 files and their folders took most of
/// `gen`'s time (a cache flush of the disk each). It also writes out what
/// other processes left unsynced on that filesystem, which is at worst as
/// slow as their own sync would be. Errors of the write-back are reported
/// (Linux 5.8 and later).
fn sync_fs(dir: &Path) -> Result<(), WriteError> {
    File::open(dir).and_then(|d| rustix::fs::syncfs(&d).map_err(io::Error::from)).map_err(|e| io_err(dir, e))
}

/// Refuses anything but a regular file at `path` (which may be absent).
pub(super) fn check_regular_or_absent(path: &Path) -> Result<(), WriteError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(WriteError::Link(path.to_path_buf())),
        Ok(m) if !m.is_file() => Err(WriteError::NotRegular(path.to_path_buf())),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path, e)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(dir, e)),
        _ => Ok(()),
    }
}

fn remove_dir_all_if_exists(dir: &Path) -> Result<(), WriteError> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(dir, e)),
        _ => Ok(()),
    }
}

fn io_err(path: &Path, source: io::Error) -> WriteError {
    WriteError::Io { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_two_does_every_item_and_says_the_first_error_in_their_order() {
        let done = std::sync::Mutex::new(Vec::new());
        let items: Vec<u32> = (0..9).collect();
        let failing = |fail: &'static [u32]| {
            |i: &u32| {
                done.lock().unwrap().push(*i);
                match fail.contains(i) {
                    true => Err(io_err(Path::new(&i.to_string()), io::Error::other("no"))),
                    false => Ok(()),
                }
            }
        };
        assert!(in_two(&items, failing(&[])).is_ok());
        assert_eq!(done.lock().unwrap().len(), 9, "each once");
        for fail in [&[2, 7][..], &[7, 2], &[6, 1]] {
            let Err(WriteError::Io { path, .. }) = in_two(&items, failing(fail)) else { panic!("an error") };
            let first = fail.iter().min().copied().unwrap_or_default();
            assert_eq!(path, Path::new(&first.to_string()), "of {fail:?}");
        }
        assert!(in_two(&[] as &[u32], failing(&[0])).is_ok(), "nothing to do");
    }
}
