//! `cargo xtask check`: no time arithmetic in the hand-written crates that panics on a large
//! number. `SystemTime + Duration`, `Instant + Duration`, `Duration + Duration` (and `-`) and
//! `Duration::from_secs_f64` panic on overflow; with a number from a server (`expires_in`, a
//! JWT's `exp`, `Retry-After`), a file or the configuration that is a panic in the caller's task
//! (and with `panic = "abort"`, the end of the application). Such code uses
//! `vandar_runtime::timeouts::{system_after, instant_after, unix_secs}`, `checked_add`,
//! `saturating_add` or `Duration::try_from_secs_f64` instead.
//!
//! The check reads `crates/*/src/**/*.rs` except `generated.rs` and test code (items under
//! `#[cfg(test)]`, and the files of `#[cfg(test)] mod x;`), with comments and literals blanked,
//! and refuses these shapes:
//!
//! * `from_secs_f64(` / `from_secs_f32(` (also a `clippy.toml` disallowed method);
//! * `UNIX_EPOCH +` / `UNIX_EPOCH -`;
//! * `now() +` / `now() -` (`Instant::now() + d`, `clock.now() - d`);
//! * `+ Duration::` / `- Duration::` (and `+=`, `-=`).
//!
//! It has no exceptions and no allow marker: rewrite the line (a constant that cannot overflow
//! goes through the same helpers). It cannot see an addition of two variables (`now + margin`);
//! reviews still look for those.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One refused line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line number.
    pub line: usize,
    /// Which shape.
    pub what: &'static str,
}

/// The refused shapes in one source file, and the `#[cfg(test)] mod x;` names it declares.
pub fn scan(text: &str) -> (Vec<Finding>, Vec<String>) {
    let mut code = blank_literals(text);
    let test_mods = blank_test_items(&mut code);
    let code = String::from_utf8_lossy(&code).into_owned();
    let mut found = Vec::new();
    for (i, line) in code.lines().enumerate() {
        for what in shapes(line) {
            found.push(Finding { line: i + 1, what });
        }
    }
    (found, test_mods)
}

fn shapes(line: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let squeezed: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    for f in ["from_secs_f64(", "from_secs_f32("] {
        if squeezed
            .match_indices(f)
            .any(|(i, _)| !squeezed[..i].ends_with("try_"))
        {
            out.push("Duration::from_secs_f64/f32 (panics on a negative, NaN or huge number)");
            break;
        }
    }
    if squeezed.contains("UNIX_EPOCH+") || squeezed.contains("UNIX_EPOCH-") {
        out.push("UNIX_EPOCH + d (panics past what a SystemTime holds)");
    }
    if squeezed.contains("now()+") || squeezed.contains("now()-") {
        out.push("now() + d (an Instant/SystemTime sum that panics on overflow)");
    }
    if ["+Duration::", "-Duration::", "+=Duration::", "-=Duration::"]
        .iter()
        .any(|p| squeezed.contains(p))
    {
        out.push("+ Duration:: (a time or Duration sum that panics on overflow)");
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The source with comments, string and char literals replaced by spaces (newlines kept), so
/// that braces and operators are only code.
fn blank_literals(text: &str) -> Vec<u8> {
    let src = text.as_bytes();
    let mut out = src.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(src.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut i = 0;
    while i < src.len() {
        let rest = &src[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(src.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (0usize, i);
            while j < src.len() {
                if src[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if src[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (src[i] == b'r' || (src[i] == b'b' && rest.get(1) == Some(&b'r')))
            && (i == 0 || !is_ident(src[i - 1]))
            && {
                let k = i + if src[i] == b'b' { 2 } else { 1 };
                let hashes = src[k..].iter().take_while(|&&b| b == b'#').count();
                src.get(k + hashes) == Some(&b'"')
            }
        {
            let k = i + if src[i] == b'b' { 2 } else { 1 };
            let hashes = src[k..].iter().take_while(|&&b| b == b'#').count();
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = k + hashes + 1;
            let end = src[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(src.len(), |p| body + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if src[i] == b'"' {
            let mut j = i + 1;
            while j < src.len() && src[j] != b'"' {
                j += if src[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if src[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}', 'é'), or a lifetime ('a): left alone.
            if rest.get(1) == Some(&b'\\') {
                let end = rest[2..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(src.len(), |p| i + 2 + p + 1);
                blank(&mut out, i, end);
                i = end;
            } else {
                let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                if rest.get(1 + ch_len) == Some(&b'\'') {
                    blank(&mut out, i, i + 2 + ch_len);
                    i += 2 + ch_len;
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Blank every item under `#[cfg(test)]` (to its `;` or its matching `}`); the names of the
/// `#[cfg(test)] mod x;` declarations.
fn blank_test_items(code: &mut [u8]) -> Vec<String> {
    const ATTR: &[u8] = b"#[cfg(test)]";
    let mut mods = Vec::new();
    let mut from = 0;
    while let Some(p) = code[from..].windows(ATTR.len()).position(|w| w == ATTR) {
        let start = from + p;
        let mut j = start + ATTR.len();
        let mut depth = 0usize;
        let mut end = code.len();
        while j < code.len() {
            match code[j] {
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = j + 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    end = j + 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let item = String::from_utf8_lossy(&code[start + ATTR.len()..end]).into_owned();
        let words: Vec<&str> = item
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(pos) = words.iter().position(|w| *w == "mod")
            && item.trim_end().ends_with(';')
            && let Some(name) = words.get(pos + 1)
        {
            mods.push((*name).to_owned());
        }
        for b in &mut code[start..end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
        from = end;
    }
    mods
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every refused line of the hand-written crates under `root/crates`, as
/// `path:line: shape` (paths relative to `root`), sorted.
pub fn check(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).context("reading crates/")? {
        let src = krate?.path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files)?;
        }
    }
    files.sort();
    let mut scanned = Vec::new();
    let mut test_files = BTreeSet::new();
    for path in &files {
        if path.file_name().is_some_and(|n| n == "generated.rs") {
            continue;
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let (found, test_mods) = scan(&text);
        let dir = path.parent().unwrap_or(root);
        // `mod x;` in lib.rs, main.rs or mod.rs is `dir/x.rs`; elsewhere `dir/<file stem>/x.rs`.
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let base = if matches!(stem, "lib" | "main" | "mod") {
            dir.to_path_buf()
        } else {
            dir.join(stem)
        };
        for m in test_mods {
            test_files.insert(base.join(format!("{m}.rs")));
            test_files.insert(base.join(&m).join("mod.rs"));
        }
        scanned.push((path.clone(), found));
    }
    let mut out = Vec::new();
    for (path, found) in scanned {
        if test_files.contains(&path) {
            continue;
        }
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        for f in found {
            out.push(format!("{shown}:{}: {}", f.line, f.what));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<usize> {
        scan(text).0.iter().map(|f| f.line).collect()
    }

    #[test]
    fn refuses_the_panicking_shapes() {
        let src = r#"
fn a(now: SystemTime, s: u64, x: f64) {
    let t = now + Duration::from_secs(s);
    let u = SystemTime::UNIX_EPOCH + d;
    let v = Duration::from_secs_f64(x);
    let w = Instant::now() + d;
    let ok = system_after(now, Duration::from_secs(s));
    let ok = Duration::try_from_secs_f64(x);
    let y = clock.now()
        - Duration::from_secs(1);
    t += Duration::from_millis(1);
}
"#;
        assert_eq!(lines(src), [3, 4, 5, 6, 10, 11]);
    }

    #[test]
    fn ignores_comments_literals_and_test_code() {
        let src = r####"
// now + Duration::from_secs(1)
/* UNIX_EPOCH + d /* nested */ still a comment */
const A: &str = "UNIX_EPOCH + d {";
const B: &str = r#"now() + Duration::ZERO }"#;
const C: char = '{';
fn f<'a>(x: &'a str) -> &'a str { x }
#[cfg(test)]
mod tests {
    fn t() { let _ = UNIX_EPOCH + Duration::from_secs(1); let _ = "}"; }
}
#[cfg(test)]
mod hook_tests;
fn after() { let _ = UNIX_EPOCH + Duration::from_secs(1); }
"####;
        let (found, mods) = scan(src);
        assert_eq!(
            found.iter().map(|f| f.line).collect::<Vec<_>>(),
            [14, 14],
            "{found:?}"
        );
        assert_eq!(mods, ["hook_tests"]);
    }
}
