//! `cargo xtask bench`: the route-server benchmark (`rsbench`, in the shared bench directory) for birdd
//! and BIRD 2, in one invocation, interleaved run by run; the figures and their ratios go into the
//! "Route server (rsbench)" section of `docs/benchmarks.md`.
//!
//! Steps: build birdd in release mode; check that BIRD 2 is installed; render the unchanged template
//! (`templates/bird.conf`) for every daemon and thread count and check it with the daemon's `-p` (a daemon
//! that rejects it is left out and reported); run `rsbench matrix` (under `nice -n -19`) with the JSON
//! lines in `target/bench/`; take the medians of the repetitions; write the section (or print it only,
//! `--no-write`). The run directories (config, daemon log) of failed runs are kept and named in the report.
//!
//! BIRD 2 has no `thread group` (a BIRD 3 option the template emits when `THREADS` is set): when its `-p`
//! rejects the threaded rendering, it runs once per case without `THREADS`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{cargo, is_root, root, run, Step};

/// The heading of the section of `docs/benchmarks.md` this command owns (replaced up to the next `## `).
const SECTION: &str = "## Route server (rsbench)";
const DEFAULT_CASES: &str = "100000x1,100000x4,1000000x1,1000000x4";
const QUICK_CASES: &str = "100000x1,100000x4";
const DEFAULT_RSBENCH_DIR: &str = "/work/shared/bench";
const DEFAULT_BIRD: &str = "/usr/sbin/bird";

const HELP: &str = "\
usage: cargo xtask bench [options]

Runs the rsbench route-server matrix for birdd and BIRD 2 (interleaved) and writes the medians and
the birdd/bird2 ratios into docs/benchmarks.md (section \"Route server (rsbench)\"). Needs root.

  --quick              cases 100000x1,100000x4, 1 rep
  --reps N             repetitions per case and daemon (default 3; --quick: 1)
  --cases LIST         ROUTESxPEERS,... (default 100000x1,100000x4,1000000x1,1000000x4)
  --threads LIST       birdd thread counts (THREADS in the template; default 1,2)
  --daemons LIST       which daemons: bird2,birdd (default both); --only NAME = --daemons NAME
  --timeout S          rsbench per-phase timeout (default 120)
  --no-write           print the section, leave docs/benchmarks.md alone
  --keep               keep every run directory (default: only those of failed runs)
  --no-nice            do not run rsbench under nice -n -19
  --no-build           use the existing release birdd
  --bird PATH          BIRD 2 binary (default /usr/sbin/bird)
  --rsbench DIR        harness directory (default $RSBENCH_DIR or /work/shared/bench)
  --birdd-template F   template for birdd (default: the harness's templates/bird.conf, unchanged)
  --report FILE.jsonl  no run: make the section from earlier JSON lines
";

#[derive(Debug)]
struct Opts {
    reps: u32,
    cases: String,
    threads: Vec<u32>,
    bird2: bool,
    birdd: bool,
    timeout: u32,
    write: bool,
    keep_all: bool,
    nice: bool,
    build: bool,
    bird: PathBuf,
    rsbench_dir: PathBuf,
    birdd_template: Option<PathBuf>,
    report: Option<PathBuf>,
    argv: Vec<String>,
}

fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        reps: 3,
        cases: DEFAULT_CASES.into(),
        threads: vec![1, 2],
        bird2: true,
        birdd: true,
        timeout: 120,
        write: true,
        keep_all: false,
        nice: true,
        build: true,
        bird: PathBuf::from(DEFAULT_BIRD),
        rsbench_dir: std::env::var_os("RSBENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_RSBENCH_DIR)),
        birdd_template: None,
        report: None,
        argv: args.to_vec(),
    };
    let (mut quick, mut reps, mut cases) = (false, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "--quick" => quick = true,
            "--reps" => reps = Some(value(flag)?.parse().map_err(|e| format!("--reps: {e}"))?),
            "--cases" => cases = Some(value(flag)?),
            "--threads" => {
                o.threads = value(flag)?
                    .split(',')
                    .map(|t| t.trim().parse::<u32>().map_err(|e| format!("--threads {t}: {e}")))
                    .collect::<Result<_, _>>()?;
                if o.threads.is_empty() || o.threads.contains(&0) {
                    return Err("--threads: thread counts are 1 or more".into());
                }
            }
            "--daemons" | "--only" => {
                let v = value(flag)?;
                o.bird2 = false;
                o.birdd = false;
                for d in v.split(',') {
                    match d.trim() {
                        "bird2" | "bird" => o.bird2 = true,
                        "birdd" => o.birdd = true,
                        other => return Err(format!("{flag}: unknown daemon `{other}` (bird2, birdd)")),
                    }
                }
            }
            "--timeout" => o.timeout = value(flag)?.parse().map_err(|e| format!("--timeout: {e}"))?,
            "--no-write" => o.write = false,
            "--keep" => o.keep_all = true,
            "--no-nice" => o.nice = false,
            "--no-build" => o.build = false,
            "--bird" => o.bird = PathBuf::from(value(flag)?),
            "--rsbench" => o.rsbench_dir = PathBuf::from(value(flag)?),
            "--birdd-template" => o.birdd_template = Some(PathBuf::from(value(flag)?)),
            "--report" => o.report = Some(PathBuf::from(value(flag)?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if quick {
        o.reps = 1;
        o.cases = QUICK_CASES.into();
    }
    if let Some(r) = reps {
        o.reps = r;
    }
    if let Some(c) = cases {
        o.cases = c;
    }
    if o.reps == 0 {
        return Err("--reps: at least 1".into());
    }
    parse_cases(&o.cases)?;
    if !o.bird2 && !o.birdd {
        return Err("no daemon selected".into());
    }
    Ok(o)
}

fn parse_cases(s: &str) -> Result<Vec<(u64, u64)>, String> {
    s.split(',')
        .map(|c| {
            let c = c.trim().to_ascii_lowercase();
            let (n, p) = c.split_once('x').unwrap_or((&c, "1"));
            let n = n.parse::<f64>().map_err(|e| format!("case `{c}`: {e}"))? as u64;
            let p = p.parse::<u64>().map_err(|e| format!("case `{c}`: {e}"))?;
            Ok((n, p))
        })
        .collect()
}

/// One daemon of the matrix: `LABEL[:THREADS][@TEMPLATE]=CMD`.
#[derive(Debug, Clone)]
struct Variant {
    label: String,
    threads: Option<u32>,
    template: Option<PathBuf>,
    cmd: String,
}

impl Variant {
    fn spec(&self) -> String {
        let mut s = self.label.clone();
        if let Some(t) = self.threads {
            let _ = write!(s, ":{t}");
        }
        if let Some(t) = &self.template {
            let _ = write!(s, "@{}", t.display());
        }
        format!("{s}={}", self.cmd)
    }

    fn name(&self) -> String {
        match self.threads {
            Some(t) => format!("{} (threads {t})", self.label),
            None => self.label.clone(),
        }
    }
}

/// What happened before the matrix: parse checks, choices, exclusions; goes into the report.
#[derive(Debug, Default)]
struct Prep {
    notes: Vec<String>,
    rejected: Vec<String>,
}

pub(crate) fn bench(args: &[String]) -> Step {
    let o = match parse_opts(args) {
        Ok(o) => o,
        Err(e) => {
            if e.is_empty() {
                eprint!("{HELP}");
                return Ok(());
            }
            eprintln!("xtask: bench: {e}\n\n{HELP}");
            return Err(2);
        }
    };
    let out_dir = root().join("target/bench");
    if let Some(jsonl) = o.report.clone() {
        let head = fs::read_to_string(jsonl.with_extension("head.md")).unwrap_or_default();
        let mut prep = Prep::default();
        for l in fs::read_to_string(jsonl.with_extension("prep")).unwrap_or_default().lines() {
            match l.split_once('\t') {
                Some(("note", n)) => prep.notes.push(n.to_string()),
                Some(("rejected", r)) => prep.rejected.push(r.to_string()),
                _ => {}
            }
        }
        return finish(&o, &jsonl, &head, &prep);
    }
    if !is_root() {
        eprintln!("xtask: bench: rsbench needs root (network namespaces): run as root or via sudo");
        return Err(1);
    }
    let rsbench = o.rsbench_dir.join("rsbench");
    let template = o.rsbench_dir.join("templates/bird.conf");
    if !rsbench.exists() || !template.exists() {
        eprintln!(
            "xtask: bench: no harness at {} (want rsbench and templates/bird.conf; --rsbench DIR or RSBENCH_DIR)",
            o.rsbench_dir.display()
        );
        return Err(1);
    }
    if o.bird2 && !o.bird.exists() {
        eprintln!(
            "xtask: bench: {} not found: install BIRD 2 (Debian/Ubuntu: `apt-get install bird2`; the \
             package's service can stay disabled: `systemctl disable --now bird`), or pass --bird PATH, \
             or --only birdd",
            o.bird.display()
        );
        return Err(1);
    }
    let birdd = target_dir().join("release/birdd");
    if o.birdd && o.build {
        let mut b = cargo();
        b.args(["build", "--release", "-p", "birdd"]);
        run("build birdd (release)", b)?;
    }
    if o.birdd && !birdd.exists() {
        eprintln!("xtask: bench: {} missing (build it or drop --no-build)", birdd.display());
        return Err(1);
    }
    if let Err(e) = fs::create_dir_all(&out_dir) {
        eprintln!("xtask: bench: {}: {e}", out_dir.display());
        return Err(1);
    }
    let stamp = cmd_out("date", &["-u", "+%Y%m%dT%H%M%SZ"]).unwrap_or_else(|| "run".into());
    let jsonl = out_dir.join(format!("rsbench-{stamp}.jsonl"));
    let pre_dir = out_dir.join(format!("preflight-{stamp}"));

    // Parse checks with the rendered template; pick the variants that go into the matrix.
    let mut prep = Prep::default();
    let mut variants = Vec::new();
    if o.bird2 {
        let bird = o.bird.display().to_string();
        let version = bird_version(&o.bird);
        let label = if version.contains("version 3") { "bird3" } else { "bird2" };
        let cmd = format!("{bird} -f -c {{conf}} -s {{sock}}");
        let t = o.threads[0];
        let threaded = parse_check(&o.bird, &template, Some(t), &pre_dir.join(format!("{label}-t{t}")));
        match threaded {
            Ok(()) => {
                for &t in &o.threads {
                    variants.push(Variant {
                        label: label.into(),
                        threads: Some(t),
                        template: None,
                        cmd: cmd.clone(),
                    });
                }
            }
            Err(terr) => match parse_check(&o.bird, &template, None, &pre_dir.join(format!("{label}-t0"))) {
                Ok(()) => {
                    prep.notes.push(format!(
                        "{label} runs without `THREADS` ({version} rejects the template's BIRD 3 \
                         `thread group` line: `{}`), once per case.",
                        one_line(&terr)
                    ));
                    variants.push(Variant { label: label.into(), threads: None, template: None, cmd });
                }
                Err(e) => {
                    eprintln!("xtask: bench: {bird} -p rejects the rendered template: {e}");
                    return Err(1);
                }
            },
        }
    }
    if o.birdd {
        let tpl = o.birdd_template.clone().unwrap_or_else(|| template.clone());
        for &t in &o.threads {
            let v = Variant {
                label: "birdd".into(),
                threads: Some(t),
                template: o.birdd_template.clone(),
                cmd: format!("{} -f -c {{conf}} -s {{sock}}", birdd.display()),
            };
            match parse_check(&birdd, &tpl, Some(t), &pre_dir.join(format!("birdd-t{t}"))) {
                Ok(()) => variants.push(v),
                Err(e) => {
                    eprintln!("xtask: bench: birdd -p rejects the rendered template (threads {t}): {e}");
                    prep.rejected.push(format!(
                        "{}: not run, `birdd -p` rejects the rendered template: `{}`",
                        v.name(),
                        one_line(&e)
                    ));
                }
            }
        }
        if o.birdd_template.is_some() {
            prep.notes.push(format!("birdd uses its own template `{}`.", tpl.display()));
        }
    }
    if variants.is_empty() {
        eprintln!("xtask: bench: nothing to run");
        return Err(1);
    }

    // The matrix.
    let mut cmd = if o.nice {
        let mut c = Command::new("nice");
        c.args(["-n", "-19", "python3"]);
        c
    } else {
        Command::new("python3")
    };
    let mut shown = vec![if o.nice { "nice -n -19 rsbench" } else { "rsbench" }.to_string(), "matrix".into()];
    cmd.arg(&rsbench).arg("matrix");
    for v in &variants {
        cmd.arg("--daemon").arg(v.spec());
        shown.push(format!("--daemon '{}'", v.spec()));
    }
    let rel_jsonl = jsonl.strip_prefix(root()).unwrap_or(&jsonl).display().to_string();
    let rest = [
        ("--cases", o.cases.clone()),
        ("--reps", o.reps.to_string()),
        ("--timeout", o.timeout.to_string()),
        ("--out", jsonl.display().to_string()),
    ];
    for (k, v) in &rest {
        cmd.arg(k).arg(v);
        shown.push(format!("{k} {}", if *k == "--out" { &rel_jsonl } else { v }));
    }
    cmd.arg("--keep");
    let runs = parse_cases(&o.cases).map(|c| c.len()).unwrap_or(0) * o.reps as usize * variants.len();
    let head = header(&o, &shown.join(" "), &rel_jsonl, &variants);
    let _ = fs::write(jsonl.with_extension("head.md"), &head);
    let saved: Vec<String> = (prep.notes.iter().map(|n| format!("note\t{n}")))
        .chain(prep.rejected.iter().map(|r| format!("rejected\t{r}")))
        .collect();
    let _ = fs::write(jsonl.with_extension("prep"), saved.join("\n") + "\n");
    eprintln!("xtask: bench: {runs} runs; JSON lines in {}", jsonl.display());
    eprintln!("xtask: bench: {cmd:?}");
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("xtask: bench: cannot start rsbench: {e}");
            return Err(1);
        }
    };
    // rsbench logs "kept run directory D" once per run, before that run's JSON line: the n-th
    // directory belongs to the n-th line of the output file.
    let mut kept = Vec::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(d) = line.split("kept run directory ").nth(1) {
                kept.push(d.trim().to_string());
            } else {
                eprintln!("{line}");
            }
        }
    }
    let status = child.wait();
    let rows = read_rows(&jsonl);
    let mut dirs = Vec::new();
    for (i, d) in kept.iter().enumerate() {
        let ok = rows.get(i).is_some_and(|r| r.ok);
        if ok && !o.keep_all {
            let _ = fs::remove_dir_all(d);
            dirs.push(String::new());
        } else {
            dirs.push(d.clone());
        }
    }
    let _ = fs::write(jsonl.with_extension("dirs"), dirs.join("\n") + "\n");
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("xtask: bench: rsbench exited with {s}; reporting what it wrote"),
        Err(e) => eprintln!("xtask: bench: rsbench: {e}"),
    }
    finish(&o, &jsonl, &head, &prep)
}

/// Summarises the JSON lines, prints the section and writes it into the docs unless `--no-write`.
fn finish(o: &Opts, jsonl: &Path, head: &str, prep: &Prep) -> Step {
    let mut rows = read_rows(jsonl);
    if let Ok(d) = fs::read_to_string(jsonl.with_extension("dirs")) {
        for (r, d) in rows.iter_mut().zip(d.lines()) {
            if !d.is_empty() {
                r.dir = Some(d.to_string());
            }
        }
    }
    if rows.is_empty() && prep.rejected.is_empty() {
        eprintln!("xtask: bench: no results in {}", jsonl.display());
        return Err(1);
    }
    let head = if head.is_empty() {
        format!("{SECTION}\n\nFrom `{}`.\n\n", jsonl.display())
    } else {
        head.to_string()
    };
    // Paths in the workspace are shown relative to it.
    let section = wrap(&(head + &body(&rows, prep)).replace(&format!("{}/", root().display()), ""), 110);
    println!("{section}");
    let failed = rows.iter().any(|r| !r.ok) || !prep.rejected.is_empty();
    if o.write {
        let doc = root().join("docs/benchmarks.md");
        let old = fs::read_to_string(&doc).unwrap_or_else(|_| "# Benchmarks\n".into());
        if let Err(e) = fs::write(&doc, replace_section(&old, &section)) {
            eprintln!("xtask: bench: {}: {e}", doc.display());
            return Err(1);
        }
        eprintln!("xtask: bench: wrote the section \"{}\" of {}", &SECTION[3..], doc.display());
    }
    if failed {
        eprintln!("xtask: bench: some runs failed (see the Failures list)");
        return Err(1);
    }
    Ok(())
}

/// Wraps prose lines and bullets at `width` columns (tables and headings stay as they are).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.chars().count() <= width || line.starts_with('|') || line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let indent = if line.starts_with("* ") { "  " } else { "" };
        let mut cur = String::new();
        for word in line.split(' ') {
            if !cur.trim().is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
                out.push_str(cur.trim_end());
                out.push('\n');
                cur = indent.to_string();
            } else if !cur.is_empty() && !cur.ends_with(' ') {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        out.push_str(cur.trim_end());
        out.push('\n');
    }
    out
}

fn replace_section(doc: &str, section: &str) -> String {
    let section = section.trim_end().to_string() + "\n";
    let mut lines = doc.split_inclusive('\n').peekable();
    let mut out = String::new();
    let mut found = false;
    while let Some(l) = lines.next() {
        if l.trim_end() == SECTION && !found {
            found = true;
            out.push_str(&section);
            while lines.peek().is_some_and(|n| !n.starts_with("## ")) {
                lines.next();
            }
            if lines.peek().is_some() {
                out.push('\n');
            }
        } else {
            out.push_str(l);
        }
    }
    if !found {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&section);
    }
    out
}

fn header(o: &Opts, shown: &str, rel_jsonl: &str, variants: &[Variant]) -> String {
    let mut h = String::new();
    let _ = writeln!(h, "{SECTION}\n");
    let args = if o.argv.is_empty() { String::new() } else { format!(" {}", o.argv.join(" ")) };
    let _ = writeln!(
        h,
        "`cargo xtask bench{args}` (`xtask/src/bench.rs`) runs the route-server harness `rsbench` ({}, see its \
         README) for birdd and BIRD 2 and writes this section. Each run starts the daemon in a private network \
         namespace with the harness's unchanged `templates/bird.conf`; P feeders announce the same N prefixes, \
         each with its own AS paths (P×N routes), and an observer peer receives the best routes. The daemons \
         run interleaved, run by run.\n",
        o.rsbench_dir.display()
    );
    let _ = writeln!(h, "* command: `{shown}`");
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().into())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let nproc = cmd_out("nproc", &[]).unwrap_or_else(|| "?".into());
    let kernel =
        fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default();
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        })
        .map(|kb| format!(", {:.0} GiB", kb / 1048576.0))
        .unwrap_or_default();
    let load = fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let date = cmd_out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let _ = writeln!(
        h,
        "* machine: {nproc} CPUs ({cpu}{mem}), Linux {kernel}; {date}; load average at the start {load} (shared \
         VM: read the interleaved ratios rather than absolute times)"
    );
    let mut daemons = Vec::new();
    if variants.iter().any(|v| v.label == "birdd") {
        let head = cmd_out("git", &["-C", &root().display().to_string(), "rev-parse", "--short", "HEAD"])
            .unwrap_or_else(|| "?".into());
        let dirty = Command::new("git")
            .current_dir(root())
            .args(["status", "--porcelain", "--untracked-files=no", "--", "crates", "Cargo.lock"])
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false);
        let dirty = if dirty { " plus uncommitted changes in the work tree" } else { "" };
        daemons.push(format!("birdd {head}{dirty} (release build)"));
    }
    if let Some(b) = variants.iter().find(|v| v.label.starts_with("bird") && v.label != "birdd") {
        daemons.push(format!("{} ({})", bird_version(&o.bird), b.cmd.split(' ').next().unwrap_or("")));
    }
    let _ = writeln!(h, "* daemons: {}", daemons.join("; "));
    let _ = writeln!(
        h,
        "* raw JSON lines: `{rel_jsonl}` (not committed; `rsbench summary FILE` gives min..max per case)"
    );
    h
}

fn body(rows: &[Row], prep: &Prep) -> String {
    let mut b = String::new();
    for n in &prep.notes {
        let _ = writeln!(b, "* {n}");
    }
    let _ = writeln!(
        b,
        "\nMedians of the ok runs (n = ok runs / runs). t_full: the observer holds all N prefixes; t_settle: the \
         last UPDATE the observer got (later than t_full with P > 1: best paths keep changing); t_withdraw: all \
         routes gone after the feeders withdraw; times in s from the feeders' start. CPU: daemon CPU from the \
         start to settled (all threads). RSS: daemon RSS once settled; bytes/route = (RSS settled − RSS before) \
         / (P×N); RSS after withdraw: once the withdrawals settled. Other CPU: CPU of unrelated processes \
         during the run (noise). threads: `THREADS` in the template (`thread group worker`).\n"
    );
    let all: Vec<&Row> = rows.iter().collect();
    if let Some(busy) = median(&all, "busy_before_pct") {
        let _ = writeln!(
            b,
            "Load: the machine was {busy:.0}% busy in the second before a run (median; 100% = both cores).\n"
        );
    }
    // Groups in first-seen order: case, then daemon as in the matrix.
    let mut keys: Vec<Key> = Vec::new();
    let mut groups: BTreeMap<Key, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        let k = r.key();
        if !groups.contains_key(&k) {
            keys.push(k.clone());
        }
        groups.entry(k).or_default().push(r);
    }
    let _ = writeln!(
        b,
        "| case (N × P) | daemon | threads | n | t_full s | t_settle s | t_withdraw s | CPU s | RSS MiB | bytes/route | RSS after withdraw MiB | other CPU s |"
    );
    let _ = writeln!(b, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for k in &keys {
        let g = &groups[k];
        let ok = g.iter().filter(|r| r.ok).count();
        let m = |f: &str| median(g, f);
        let _ = writeln!(
            b,
            "| {} | {} | {} | {ok}/{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            case_name(k.routes, k.peers),
            k.label,
            k.threads.map(|t| t.to_string()).unwrap_or_else(|| "–".into()),
            g.len(),
            fmt_num(m("t_full"), 3),
            fmt_num(m("t_settle"), 3),
            fmt_num(m("t_withdraw"), 3),
            fmt_num(m("cpu_announce_s"), 3),
            fmt_num(m("full_rss_kb").map(|k| k / 1024.0), 1),
            fmt_num(m("bytes_per_route"), 0),
            fmt_num(m("end_rss_kb").map(|k| k / 1024.0), 1),
            fmt_num(m("win_other_cpu_s"), 2),
        );
    }
    // Ratios birdd / reference BIRD, per case and birdd thread count.
    let reference = |k: &Key| {
        keys.iter()
            .filter(|r| r.label != "birdd" && r.routes == k.routes && r.peers == k.peers)
            .find(|r| r.threads.is_none() || r.threads == k.threads)
            .cloned()
    };
    let pairs: Vec<(Key, Key)> = keys
        .iter()
        .filter(|k| k.label == "birdd")
        .filter_map(|k| reference(k).map(|r| (k.clone(), r)))
        .collect();
    if !pairs.is_empty() {
        let _ = writeln!(
            b,
            "\nRatios birdd ÷ {} (medians; below 1: birdd faster or smaller):\n",
            pairs[0].1.label
        );
        let _ = writeln!(
            b,
            "| case (N × P) | birdd threads | t_full | t_settle | t_withdraw | CPU | RSS | bytes/route |"
        );
        let _ = writeln!(b, "|---|---|---|---|---|---|---|---|");
        for (d, r) in &pairs {
            let ratio = |f: &str| match (median(&groups[d], f), median(&groups[r], f)) {
                (Some(x), Some(y)) if y > 0.0 => format!("{x_y:.2}×", x_y = x / y),
                _ => "–".into(),
            };
            let _ = writeln!(
                b,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                case_name(d.routes, d.peers),
                d.threads.map(|t| t.to_string()).unwrap_or_else(|| "–".into()),
                ratio("t_full"),
                ratio("t_settle"),
                ratio("t_withdraw"),
                ratio("cpu_announce_s"),
                ratio("full_rss_kb"),
                ratio("bytes_per_route"),
            );
        }
    } else if !keys.iter().any(|k| k.label == "birdd") {
        let _ = writeln!(b, "\nNo birdd figures in this run, so no ratios.");
    }
    let _ = writeln!(b, "\n### Failures\n");
    let mut any = false;
    for r in &prep.rejected {
        any = true;
        let _ = writeln!(b, "* {r}");
    }
    for r in rows {
        if r.ok && r.notes.is_empty() {
            continue;
        }
        any = true;
        let mut line = format!(
            "* {} (threads {}), {}, rep {}: ",
            r.label,
            r.threads.map(|t| t.to_string()).unwrap_or_else(|| "–".into()),
            case_name(r.routes, r.peers),
            r.rep
        );
        if r.ok {
            let _ = write!(line, "ok, but: {}", r.notes.join("; "));
        } else {
            let _ =
                write!(line, "**failed**: `{}`", r.error.as_deref().unwrap_or("ok:false, no error given"));
            if !r.notes.is_empty() {
                let _ = write!(line, "; {}", r.notes.join("; "));
            }
            match r.daemon_exit {
                Some(c) => {
                    let _ = write!(line, "; the daemon exited ({c})");
                }
                None => line.push_str("; the daemon was still running"),
            }
            let tail = one_line(&r.log_tail);
            if !tail.is_empty() {
                let _ = write!(line, "; daemon log ends: `{tail}`");
            }
            if let Some(d) = &r.dir {
                let _ = write!(line, "; run directory (config, logs): `{d}`");
            }
        }
        let _ = writeln!(b, "{line}");
    }
    if !any {
        let _ = writeln!(b, "None: every run ended ok.");
    }
    b
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    routes: i64,
    peers: i64,
    label: String,
    threads: Option<i64>,
}

#[derive(Debug)]
struct Row {
    label: String,
    threads: Option<i64>,
    routes: i64,
    peers: i64,
    rep: i64,
    ok: bool,
    error: Option<String>,
    notes: Vec<String>,
    daemon_exit: Option<i64>,
    log_tail: String,
    nums: BTreeMap<String, f64>,
    dir: Option<String>,
}

impl Row {
    fn key(&self) -> Key {
        Key { routes: self.routes, peers: self.peers, label: self.label.clone(), threads: self.threads }
    }

    fn from_json(j: &Json) -> Option<Row> {
        if j.get("kind")?.as_str()? != "run" {
            return None;
        }
        let int = |k: &str| j.get(k).and_then(Json::as_f64).map(|f| f as i64);
        let nums = match j {
            Json::Obj(kv) => kv.iter().filter_map(|(k, v)| v.as_f64().map(|f| (k.clone(), f))).collect(),
            _ => BTreeMap::new(),
        };
        Some(Row {
            label: j.get("label").and_then(Json::as_str).unwrap_or("?").to_string(),
            threads: int("threads"),
            routes: int("routes").unwrap_or(0),
            peers: int("peers").unwrap_or(0),
            rep: int("rep").unwrap_or(0),
            ok: matches!(j.get("ok"), Some(Json::Bool(true))),
            error: j.get("error").and_then(Json::as_str).map(str::to_string),
            notes: match j.get("notes") {
                Some(Json::Arr(a)) => a.iter().filter_map(Json::as_str).map(str::to_string).collect(),
                _ => Vec::new(),
            },
            daemon_exit: int("daemon_exit"),
            log_tail: j.get("daemon_log_tail").and_then(Json::as_str).unwrap_or("").to_string(),
            nums,
            dir: None,
        })
    }
}

fn read_rows(path: &Path) -> Vec<Row> {
    let Ok(text) = fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match Json::parse(l) {
            Ok(j) => Row::from_json(&j),
            Err(e) => {
                eprintln!("xtask: bench: {}: bad JSON line ({e})", path.display());
                None
            }
        })
        .collect()
}

fn median(rows: &[&Row], field: &str) -> Option<f64> {
    let mut v: Vec<f64> = rows.iter().filter(|r| r.ok).filter_map(|r| r.nums.get(field).copied()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

fn fmt_num(v: Option<f64>, digits: usize) -> String {
    match v {
        None => "–".into(),
        Some(x) if digits == 0 => format!("{x:.0}"),
        // Three significant digits for the times, a fixed number of decimals otherwise.
        Some(x) if digits == 3 => {
            if x.abs() >= 100.0 {
                format!("{x:.0}")
            } else if x.abs() >= 10.0 {
                format!("{x:.1}")
            } else {
                format!("{x:.2}")
            }
        }
        Some(x) => format!("{x:.digits$}"),
    }
}

fn case_name(routes: i64, peers: i64) -> String {
    let n = if routes % 1_000_000 == 0 {
        format!("{}M", routes / 1_000_000)
    } else if routes % 1000 == 0 {
        format!("{}k", routes / 1000)
    } else {
        routes.to_string()
    };
    format!("{n} × {peers}")
}

fn one_line(s: &str) -> String {
    let s: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    s.join(" / ").replace('`', "'").replace('|', "\\|")
}

fn cmd_out(prog: &str, args: &[&str]) -> Option<String> {
    let o = Command::new(prog).args(args).output().ok()?;
    o.status.success().then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn bird_version(bird: &Path) -> String {
    Command::new(bird)
        .arg("--version")
        .output()
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
            s.trim().to_string()
        })
        .unwrap_or_else(|_| "BIRD (version unknown)".into())
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => root().join(d),
        None => root().join("target"),
    }
}

// ------------------------------------------------------------------ parse check

/// Renders `template` as rsbench would for a run with two feeders and checks it with `exe -p -c`.
fn parse_check(exe: &Path, template: &Path, threads: Option<u32>, dir: &Path) -> Result<(), String> {
    let text = fs::read_to_string(template).map_err(|e| format!("{}: {e}", template.display()))?;
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut env: BTreeMap<String, String> = [
        ("DAEMON_ADDR", "127.0.0.1"),
        ("DAEMON_ASN", "65000"),
        ("OBSERVER_ADDR", "127.0.0.2"),
        ("OBSERVER_ASN", "65100"),
        ("ROUTER_ID", "10.255.0.1"),
        ("IMPORT", "all"),
        ("FEEDER_EXPORT", "all"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert("THREADS".into(), threads.map(|t| t.to_string()).unwrap_or_default());
    env.insert("DIR".into(), dir.display().to_string());
    env.insert("SOCK".into(), dir.join("ctl.sock").display().to_string());
    let feeders = (0..2u32)
        .map(|i| {
            BTreeMap::from([
                ("IDX".to_string(), i.to_string()),
                ("FEEDER_ADDR".to_string(), format!("127.0.{}.{}", 1 + i / 200, 10 + i % 200)),
                ("FEEDER_ASN".to_string(), (4_200_000_001u64 + u64::from(i)).to_string()),
            ])
        })
        .collect();
    let lists = BTreeMap::from([("feeder".to_string(), feeders)]);
    let conf = dir.join("daemon.conf");
    fs::write(&conf, render(&text, &env, &lists)?).map_err(|e| format!("{}: {e}", conf.display()))?;
    let out = Command::new(exe)
        .arg("-p")
        .arg("-c")
        .arg(&conf)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if out.status.success() {
        return Ok(());
    }
    let msg = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    Err(format!("{} ({})", msg.trim(), out.status))
}

type Lists = BTreeMap<String, Vec<BTreeMap<String, String>>>;

/// rsbench's template rules: `#>>NAME` .. `#<<NAME` repeated per item of list NAME, `#?VAR text` kept
/// only when VAR is non-empty, `##` lines dropped, `${VAR}` / `$VAR` / `$$` substituted.
fn render(text: &str, env: &BTreeMap<String, String>, lists: &Lists) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (mut out, mut flat) = (String::new(), String::new());
    let mut i = 0;
    while i < lines.len() {
        let name = lines[i]
            .strip_prefix("#>>")
            .and_then(|s| s.strip_suffix('\n'))
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'));
        if let Some(name) = name {
            let close = format!("#<<{name}\n");
            if let Some(j) = (i + 1..lines.len()).find(|&j| lines[j] == close) {
                out += &render_flat(&flat, env)?;
                flat.clear();
                let inner = lines[i + 1..j].concat();
                for item in lists.get(name).map(Vec::as_slice).unwrap_or(&[]) {
                    let mut e = env.clone();
                    e.extend(item.clone());
                    out += &render(&inner, &e, lists)?;
                }
                i = j + 1;
                continue;
            }
        }
        flat.push_str(lines[i]);
        i += 1;
    }
    out += &render_flat(&flat, env)?;
    Ok(out)
}

fn render_flat(text: &str, env: &BTreeMap<String, String>) -> Result<String, String> {
    let mut kept = String::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("##") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("#?") {
            let (var, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            if env.get(var.trim_end()).is_none_or(|v| v.is_empty()) {
                continue;
            }
            kept.push_str(rest);
        } else {
            kept.push_str(line);
        }
    }
    let mut out = String::new();
    let mut chars = kept.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let name: String = match chars.peek() {
            Some((_, '$')) => {
                chars.next();
                out.push('$');
                continue;
            }
            Some((_, '{')) => {
                chars.next();
                let mut n = String::new();
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    n.push(c);
                }
                n
            }
            _ => {
                let mut n = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if !(c.is_ascii_alphanumeric() || c == '_') {
                        break;
                    }
                    n.push(c);
                    chars.next();
                }
                n
            }
        };
        match env.get(&name) {
            Some(v) => out.push_str(v),
            None => return Err(format!("template: no value for ${{{name}}}")),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------ JSON (rsbench's output lines)

#[derive(Debug)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(s: &str) -> Result<Json, String> {
        let mut p = JsonParser { s: s.as_bytes(), i: 0 };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }

    fn get(&self, k: &str) -> Option<&Json> {
        match self {
            Json::Obj(kv) => kv.iter().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            None => Err("unexpected end".into()),
            Some(b'{') => {
                self.i += 1;
                let mut kv = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(Json::Obj(kv));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err(format!("':' expected at {}", self.i));
                    }
                    kv.push((k, self.value()?));
                    self.ws();
                    if self.eat("}") {
                        return Ok(Json::Obj(kv));
                    }
                    if !self.eat(",") {
                        return Err(format!("',' or '}}' expected at {}", self.i));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(Json::Arr(a));
                }
                loop {
                    a.push(self.value()?);
                    self.ws();
                    if self.eat("]") {
                        return Ok(Json::Arr(a));
                    }
                    if !self.eat(",") {
                        return Err(format!("',' or ']' expected at {}", self.i));
                    }
                }
            }
            Some(b'"') => self.string().map(Json::Str),
            _ if self.eat("null") => Ok(Json::Null),
            _ if self.eat("true") => Ok(Json::Bool(true)),
            _ if self.eat("false") => Ok(Json::Bool(false)),
            // Python writes NaN / Infinity for non-finite floats.
            _ if self.eat("NaN") => Ok(Json::Num(f64::NAN)),
            _ if self.eat("Infinity") => Ok(Json::Num(f64::INFINITY)),
            _ if self.eat("-Infinity") => Ok(Json::Num(f64::NEG_INFINITY)),
            _ => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| b"+-.eE0123456789".contains(c)) {
                    self.i += 1;
                }
                std::str::from_utf8(&self.s[start..self.i])
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .map(Json::Num)
                    .ok_or_else(|| format!("bad value at {start}"))
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
        self.i += 4;
        u32::from_str_radix(std::str::from_utf8(h).map_err(|e| e.to_string())?, 16).map_err(|e| e.to_string())
    }

    fn string(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(format!("string expected at {}", self.i));
        }
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    let ch = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let mut u = self.hex4()?;
                            if (0xd800..0xdc00).contains(&u) && self.eat("\\u") {
                                let lo = self.hex4()?;
                                u = 0x10000 + ((u - 0xd800) << 10) + (lo.wrapping_sub(0xdc00) & 0x3ff);
                            }
                            char::from_u32(u).unwrap_or('\u{fffd}')
                        }
                        other => other as char,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round() {
        let j = Json::parse(r#"{"a": 1.5, "b": [1, "x\u00e9\n"], "c": null, "ok": true, "n": -2e3}"#)
            .expect("parses");
        assert_eq!(j.get("a").and_then(Json::as_f64), Some(1.5));
        assert_eq!(j.get("n").and_then(Json::as_f64), Some(-2000.0));
        match j.get("b") {
            Some(Json::Arr(a)) => assert_eq!(a[1].as_str(), Some("xé\n")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn render_rules() {
        let env = BTreeMap::from([("A".to_string(), "1".to_string()), ("T".to_string(), String::new())]);
        let lists = BTreeMap::from([(
            "f".to_string(),
            vec![
                BTreeMap::from([("I".to_string(), "x".to_string())]),
                BTreeMap::from([("I".to_string(), "y".to_string())]),
            ],
        )]);
        let t = "## c\n#?T t ${T}\n#?A a $A\nb ${A}$$\n#>>f\ni${I}\n#<<f\nend\n";
        assert_eq!(render(t, &env, &lists).expect("renders"), "a 1\nb 1$\nix\niy\nend\n");
    }

    #[test]
    fn section_replaced() {
        let doc = "# B\n\n## One\n\nx\n\n## Route server (rsbench)\n\nold\n\n## Two\n\ny\n";
        let new = replace_section(doc, "## Route server (rsbench)\n\nnew\n");
        assert_eq!(new, "# B\n\n## One\n\nx\n\n## Route server (rsbench)\n\nnew\n\n## Two\n\ny\n");
        let app = replace_section("# B\n\nx\n", "## Route server (rsbench)\n\nnew\n");
        assert_eq!(app, "# B\n\nx\n\n## Route server (rsbench)\n\nnew\n");
    }
}
