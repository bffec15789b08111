//! Reading the files a user hands us (config, theme, scenario, runbook,
//! answers, suppressions): only regular files, only up to [`MAX_FILE_BYTES`],
//! only UTF-8 text. `--config /dev/zero` or a runbook directory holding a link
//! to a FIFO is refused with one line instead of growing without bound or
//! blocking forever.

use std::io::Read;
use std::path::Path;

/// The largest user file read (4 MiB: the biggest shipped runbook is ~10 KiB).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a regular file ({what}); refusing to read it")]
    NotRegular { path: String, what: &'static str },
    #[error("{path}: {size} bytes is over the {max}-byte limit for this file")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("{path}:{line}: not UTF-8 text")]
    NotUtf8 { path: String, line: usize },
}

impl ReadError {
    /// The file does not exist (callers treat optional files as absent).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

fn file_type_name(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Read `path` as text: it must be a regular file (links are followed to
/// one) of at most [`MAX_FILE_BYTES`] bytes, in UTF-8. A leading UTF-8 BOM is
/// dropped (editors on Windows write one).
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    read_text_max(path, MAX_FILE_BYTES)
}

/// [`read_text`] with another size cap.
pub fn read_text_max(path: &Path, max: u64) -> Result<String, ReadError> {
    let shown = || path.display().to_string();
    let io = |source| ReadError::Io {
        path: shown(),
        source,
    };
    // stat before open: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular {
            path: shown(),
            what: file_type_name(&meta.file_type()),
        });
    }
    let too_large = |size| ReadError::TooLarge {
        path: shown(),
        size,
        max,
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    // O_NONBLOCK: should the path have been swapped for a FIFO since the
    // stat, the open still returns; the fstat below then refuses it.
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular {
            path: shown(),
            what: file_type_name(&meta.file_type()),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len().min(max) as usize);
    // One byte past the cap tells a file that grew since the stat.
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        ReadError::NotUtf8 {
            path: shown(),
            line,
        }
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_directories_are_refused() {
        let e = read_text(Path::new("/dev/zero")).unwrap_err().to_string();
        assert_eq!(
            e,
            "/dev/zero: not a regular file (a character device); refusing to read it"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = read_text(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("not a regular file (a directory); refusing to read it"));
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_text(&fifo).unwrap_err().to_string();
        assert!(e.ends_with("(a FIFO); refusing to read it"), "{e}");
        // A link to a device is the device.
        let link = dir.path().join("zero.toml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read_text(&link).unwrap_err().to_string();
        assert!(e.contains("a character device"), "{e}");
    }

    #[test]
    fn size_cap_utf8_and_bom() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        std::fs::write(&p, "x".repeat(11)).unwrap();
        let e = read_text_max(&p, 10).unwrap_err().to_string();
        assert!(
            e.ends_with("11 bytes is over the 10-byte limit for this file"),
            "{e}"
        );
        assert_eq!(read_text_max(&p, 11).unwrap().len(), 11);
        std::fs::write(&p, b"ok\nok\n\xff\n").unwrap();
        let e = read_text(&p).unwrap_err().to_string();
        assert!(e.ends_with("a.toml:3: not UTF-8 text"), "{e}");
        std::fs::write(&p, "\u{feff}theme = 1\n").unwrap();
        assert_eq!(read_text(&p).unwrap(), "theme = 1\n");
        let missing = read_text(&dir.path().join("none")).unwrap_err();
        assert!(missing.is_not_found());
        assert!(
            !read_text(Path::new("/dev/zero"))
                .unwrap_err()
                .is_not_found()
        );
    }
}
