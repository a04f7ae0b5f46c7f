//! Reading one policy file from disk into text, under size budgets, refusing anything that is
//! not a regular UTF-8 text file. Never reads FIFOs, devices or sockets: their type is checked
//! on the path before opening and again on the opened descriptor.

use crate::diagnostic::{Code, Diagnostic};
use crate::yaml::Span;
use std::fs;
use std::io::Read;
use std::path::Path;

/// Size limits for one input file.
#[derive(Debug, Clone, Copy)]
pub struct SizeBudget {
    pub max_file_bytes: u64,
    pub max_line_bytes: usize,
}

impl SizeBudget {
    /// 4 MiB: the largest real policy is a few kilobytes.
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
    /// 64 KiB: long enough for any prose field written on one line.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;
}

/// What a refusal over a budget calls the files and which flags it names to raise the budgets:
/// policy files and rule packs are read alike but have their own flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetFlags {
    /// `policy files`, `rule pack files`.
    pub files: &'static str,
    pub file_bytes: &'static str,
    /// `None` when the line budget of these files is fixed.
    pub line_bytes: Option<&'static str>,
}

impl BudgetFlags {
    pub const POLICY: Self = Self {
        files: "policy files",
        file_bytes: "--max-file-bytes",
        line_bytes: Some("--max-line-bytes"),
    };
}

impl Default for SizeBudget {
    fn default() -> Self {
        Self {
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            max_line_bytes: Self::DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// `O_NONBLOCK` (Linux, x86_64 and aarch64; `libc` is not a dependency): opening a FIFO that a
/// file was swapped for after the metadata check returns at once instead of waiting for a
/// writer, and the type check on the opened descriptor then refuses it unread. Regular files
/// ignore the flag.
#[cfg(target_os = "linux")]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(target_os = "linux"))]
const O_NONBLOCK: i32 = 0;

/// Reads `path` as policy text. `shown` is the path as the user should see it.
///
/// The path's type is checked before opening (FIFOs and devices are normally never opened),
/// and again on the opened descriptor, so a file swapped for a FIFO or a device between the
/// two is refused without being read.
pub fn read(path: &Path, shown: &str, budget: SizeBudget) -> Result<String, Diagnostic> {
    read_with(path, shown, budget, BudgetFlags::POLICY)
}

/// [`read`], naming `flags` when the file is over a budget.
pub fn read_with(
    path: &Path,
    shown: &str,
    budget: SizeBudget,
    flags: BudgetFlags,
) -> Result<String, Diagnostic> {
    let metadata = fs::metadata(path).map_err(|e| io_error(shown, "cannot read file", &e))?;
    if !metadata.is_file() {
        return Err(not_a_file(shown, &metadata, "not opened"));
    }
    if metadata.len() > budget.max_file_bytes {
        return Err(too_large(
            shown,
            metadata.len(),
            budget.max_file_bytes,
            flags,
        ));
    }
    open_and_read(path, shown, budget, flags)
}

/// Opens `path` without blocking and reads it only if the opened descriptor is a regular file:
/// the second half of [`read`], public so that a file swapped after the path check can be
/// tested deterministically.
pub fn read_opened(path: &Path, shown: &str, budget: SizeBudget) -> Result<String, Diagnostic> {
    open_and_read(path, shown, budget, BudgetFlags::POLICY)
}

fn open_and_read(
    path: &Path,
    shown: &str,
    budget: SizeBudget,
    flags: BudgetFlags,
) -> Result<String, Diagnostic> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .map_err(|e| io_error(shown, "cannot open file", &e))?;
    let metadata = file
        .metadata()
        .map_err(|e| io_error(shown, "cannot read file", &e))?;
    if !metadata.is_file() {
        return Err(not_a_file(
            shown,
            &metadata,
            "replaced after it was listed; not read",
        ));
    }
    if metadata.len() > budget.max_file_bytes {
        return Err(too_large(
            shown,
            metadata.len(),
            budget.max_file_bytes,
            flags,
        ));
    }
    let mut bytes = Vec::new();
    // The file may grow between the size check and the read; never read past the budget.
    file.take(budget.max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(shown, "cannot read file", &e))?;
    if bytes.len() as u64 > budget.max_file_bytes {
        return Err(too_large(
            shown,
            bytes.len() as u64,
            budget.max_file_bytes,
            flags,
        ));
    }
    decode_with(shown, bytes, budget, flags)
}

fn not_a_file(shown: &str, metadata: &fs::Metadata, what: &str) -> Diagnostic {
    Diagnostic::error(
        Code::NotAFile,
        shown,
        format!("not a regular file ({}); {what}", file_kind(metadata)),
    )
    .with_hint("policy files must be regular files; FIFOs, devices and sockets are skipped")
}

/// Checks raw bytes and turns them into text.
pub fn decode(shown: &str, bytes: Vec<u8>, budget: SizeBudget) -> Result<String, Diagnostic> {
    decode_with(shown, bytes, budget, BudgetFlags::POLICY)
}

fn decode_with(
    shown: &str,
    bytes: Vec<u8>,
    budget: SizeBudget,
    flags: BudgetFlags,
) -> Result<String, Diagnostic> {
    if bytes.is_empty() {
        return Err(
            Diagnostic::error(Code::EmptyFile, shown, "the file is empty")
                .with_span(Span::new(1, 1, 0))
                .with_hint("a policy file describes one service: start with `version: 1`"),
        );
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(Diagnostic::error(
            Code::ByteOrderMark,
            shown,
            "the file starts with a UTF-8 byte-order mark",
        )
        .with_span(Span::new(1, 1, 1))
        .with_hint("save the file as UTF-8 without BOM (most editors: \"UTF-8\" rather than \"UTF-8 with BOM\")"));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(Diagnostic::error(
            Code::BinaryFile,
            shown,
            "the file is binary (it contains a NUL byte)",
        )
        .with_span(position_of(&bytes, offset))
        .with_hint("policy files are UTF-8 text; check that the right file was named"));
    }
    check_line_lengths(shown, &bytes, budget.max_line_bytes, flags)?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        Diagnostic::error(
            Code::InvalidUtf8,
            shown,
            format!(
                "invalid UTF-8 at byte offset {offset} (byte 0x{:02X})",
                bytes[offset]
            ),
        )
        .with_span(position_of(bytes, offset))
        .with_hint("policy files must be UTF-8; convert it, e.g. `iconv -f SHIFT_JIS -t UTF-8`")
    })
}

fn check_line_lengths(
    shown: &str,
    bytes: &[u8],
    max: usize,
    flags: BudgetFlags,
) -> Result<(), Diagnostic> {
    for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.len() > max {
            return Err(Diagnostic::error(
                Code::LineTooLong,
                shown,
                format!("line {} is {} bytes long, over the {max}-byte line budget", number + 1, line.len()),
            )
            .with_span(Span::new(u32::try_from(number + 1).unwrap_or(u32::MAX), 1, 0))
            .with_hint(match flags.line_bytes {
                Some(flag) => format!("split the value over several lines (a `>` folded block), or raise the budget with {flag}"),
                None => format!("split the value over several lines (a `>` folded block); the line budget of {} is fixed", flags.files),
            }));
        }
    }
    Ok(())
}

fn too_large(shown: &str, actual: u64, max: u64, flags: BudgetFlags) -> Diagnostic {
    Diagnostic::error(
        Code::FileTooLarge,
        shown,
        format!("the file is {actual} bytes, over the {max}-byte size budget; not parsed"),
    )
    .with_hint(format!(
        "{} are small; if this one really is this large, raise the budget with {}",
        flags.files, flags.file_bytes
    ))
}

fn io_error(shown: &str, what: &str, error: &std::io::Error) -> Diagnostic {
    Diagnostic::error(Code::IoError, shown, format!("{what}: {error}"))
        .with_hint("check that the file exists and that you may read it")
}

fn file_kind(metadata: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Line and column (in characters, 1-based) of a byte offset, decoding lossily.
fn position_of(bytes: &[u8], offset: usize) -> Span {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Span::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
        1,
    )
}
