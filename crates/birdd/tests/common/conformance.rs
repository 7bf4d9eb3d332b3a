//! The conformance run shared by `transcripts.rs` (non-root, partial lab) and `netns_lab.rs` (root, full
//! lab): every BIRD 2 transcript's command sent in the lab's order, replies normalised and compared, and
//! the list of unmatched ones checked against the test's list and docs/compat.md.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{norm_times, Daemon, Session, WAIT};

pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bird2")
}

/// Every transcript name: the `.cmd` stems, the greeting and the echo session's lingering lines.
pub fn transcript_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".cmd").map(str::to_owned))
        .collect();
    v.push("00-greeting".into());
    v.push("94-echo-async.linger".into());
    v.sort();
    v
}

/// Replaces the live values of a reply: times, the version, the host name, memory figures and the
/// directory of the configuration files (the lab's `/etc/bird`).
pub fn normalise(s: &str, conf_dir: &str) -> String {
    let mut t = norm_times(s).replace(conf_dir, "/etc/bird");
    for v in ["2.0.12", env!("CARGO_PKG_VERSION")] {
        t = t.replace(&format!("BIRD {v}"), "BIRD <V>");
    }
    let mut out = String::with_capacity(t.len());
    for line in t.split_inclusive('\n') {
        if let Some(i) = line.find("Hostname is ") {
            out.push_str(&line[..i]);
            out.push_str("Hostname is <H>\n");
        } else {
            out.push_str(&norm_memory(line));
        }
    }
    out
}

/// `  59.8 kB`, `4232.0  B` → ` <M>`.
pub fn norm_memory(line: &str) -> String {
    let mut out = String::new();
    let words: Vec<&str> = line.split(' ').collect();
    let mut i = 0;
    let is_num = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.');
    while i < words.len() {
        if is_num(words[i]) {
            let mut j = i + 1;
            while j < words.len() && words[j].is_empty() {
                j += 1;
            }
            let unit = words.get(j).map(|w| w.trim_end_matches('\n'));
            if matches!(unit, Some("B" | "kB" | "MB" | "GB")) {
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push_str(" <M>");
                if words[j].ends_with('\n') {
                    out.push('\n');
                }
                i = j + 1;
                if i < words.len() {
                    out.push(' ');
                }
                continue;
            }
        }
        out.push_str(words[i]);
        if i + 1 < words.len() {
            out.push(' ');
        }
        i += 1;
    }
    out
}

/// Reads whatever arrives within `ms` milliseconds.
pub fn read_for(s: &mut Session, ms: u64) -> String {
    use std::io::Read;
    s.s.set_read_timeout(Some(std::time::Duration::from_millis(ms))).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 65536];
    while let Ok(n) = s.s.read(&mut b) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&b[..n]);
    }
    s.s.set_read_timeout(Some(WAIT)).unwrap();
    String::from_utf8_lossy(&got).into_owned()
}

/// Runs every transcript's command(s) against `d` in the lab's order (the state-changing ones depend on
/// it); returns (name, birdd's reply, BIRD's), both normalised. `conf_dir` holds the daemon's config and
/// stands for the lab's `/etc/bird`; `before(name)` runs before each transcript (waits for the state the
/// lab had); names for which `skip` holds are not sent (their birdd reply is left empty).
pub fn run_all(
    conf_dir: &std::path::Path,
    d: &Daemon,
    before: &dyn Fn(&str),
    skip: &dyn Fn(&str) -> bool,
) -> Vec<(String, String, String)> {
    let conf_dir_s = conf_dir.display().to_string();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken-syntax.conf"),
        conf_dir.join("broken-syntax.conf"),
    )
    .unwrap();
    let read = |n: &str| std::fs::read_to_string(data_dir().join(n)).unwrap_or_default();
    let mut results = Vec::new();
    let mut restricted: Option<Session> = None;
    let mut echo: Option<Session> = None;
    for name in transcript_names() {
        if skip(&name) {
            let want = read(&format!("{name}.out"));
            results.push((name, String::new(), normalise(&want, &conf_dir_s)));
            continue;
        }
        before(&name);
        let (mine, want) = if name == "00-greeting" {
            (d.session().greeting, read("00-greeting.greeting.out"))
        } else if name == "94-echo-async.linger" {
            let s = echo.as_mut().unwrap();
            (read_for(s, 300), read("94-echo-async.linger.out"))
        } else {
            let cmd = read(&format!("{name}.cmd")).replace("/etc/bird", &conf_dir_s);
            let session = if name.starts_with("90-restrict-session.") {
                &mut restricted
            } else if name.starts_with("94-echo-async.") {
                &mut echo
            } else {
                &mut None
            };
            let s = session.get_or_insert_with(|| d.session());
            s.send(cmd.as_bytes());
            if name.starts_with("95-") {
                let greeting = s.greeting.clone();
                let got = format!("{greeting}{}", read_for(s, 300));
                (got, read(&format!("{name}.out.with-greeting")))
            } else if name.starts_with("93-") {
                let got = read_for(s, 1000);
                (got, read(&format!("{name}.out")))
            } else {
                let mut got = String::new();
                for _ in 0..cmd.matches('\n').count() {
                    got.push_str(&s.read_reply());
                }
                (got, read(&format!("{name}.out")))
            }
        };
        let (mut mine, mut want) = (normalise(&mine, &conf_dir_s), normalise(&want, &conf_dir_s));
        if name.starts_with("94-echo-async.0") {
            // Asynchronous log lines arrive whenever the daemon logs; the replies are compared without
            // them (what they say is the `linger` transcript).
            let drop_async = |t: &str| t.split_inclusive('\n').filter(|l| !l.starts_with('+')).collect();
            (mine, want) = (drop_async(&mine), drop_async(&want));
        }
        results.push((name, mine, want));
    }
    results
}

/// Compares `results` with the list of known differences: prints the matched count and the list, and
/// panics when an unlisted one differs, a listed one matches or the list names an unknown transcript.
/// `diffs_env`: when that variable is set, the differences of the listed ones are printed too.
pub fn check_report(
    title: &str,
    results: &[(String, String, String)],
    not_matched: &[(&str, &str)],
    diffs_env: &str,
) {
    let mut unexpected = Vec::new();
    for (name, mine, want) in results {
        let listed = not_matched.iter().find(|(n, _)| n == name);
        match (mine == want, listed) {
            (true, None) => {}
            (false, Some(_)) => {
                if std::env::var_os(diffs_env).is_some() {
                    eprintln!("{name}: listed, differs\n--- birdd\n{mine}--- BIRD\n{want}");
                }
            }
            (false, None) => unexpected.push(format!("{name}: differs\n--- birdd\n{mine}--- BIRD\n{want}")),
            (true, Some(_)) => unexpected.push(format!("{name}: matches now; remove it from the list")),
        }
    }
    for (n, _) in not_matched {
        assert!(results.iter().any(|(r, _, _)| r == n), "the list names an unknown transcript {n}");
    }
    let matched = results.len() - not_matched.len();
    eprintln!(
        "{title}: {matched} of {} BIRD 2 transcripts reproduced byte for byte; not yet matched:",
        results.len()
    );
    for (n, why) in not_matched {
        eprintln!("  {n}: {why}");
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

/// The `| \`name\` | reason |` rows of docs/compat.md between `<!-- {marker}:begin -->` and
/// `<!-- {marker}:end -->`, asserted equal to `list`.
pub fn check_doc_table(marker: &str, list: &[(&str, &str)]) {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/compat.md");
    let doc = std::fs::read_to_string(&p).unwrap();
    let begin = doc.find(&format!("<!-- {marker}:begin -->")).expect("begin marker");
    let end = doc.find(&format!("<!-- {marker}:end -->")).expect("end marker");
    let listed: Vec<(String, String)> = doc[begin..end]
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim().trim_matches('|').split('|').map(str::trim).collect();
            let name = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), cells.get(1)?.to_string()))
        })
        .collect();
    let want: Vec<(String, String)> = list.iter().map(|(n, r)| (n.to_string(), r.to_string())).collect();
    assert_eq!(listed, want, "docs/compat.md's table {marker} differs from the test's list");
}
