//! BIRD's `timeformat`: strftime-like formats with `%f` fractions and an
//! optional second format for times older than a limit.
//!
//! No clock is read here: callers pass the event's wall-clock time, "now" and
//! the local UTC offset, which keeps every output reproducible in tests.

use std::fmt::Write as _;

/// A wall-clock instant in microseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct WallTime(pub i64);

impl WallTime {
    /// From seconds and microseconds.
    pub const fn from_unix(secs: i64, micros: u32) -> Self {
        WallTime(secs * 1_000_000 + micros as i64)
    }

    /// From a civil UTC date and time (proleptic Gregorian).
    pub fn from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> Self {
        let days = days_from_civil(y, mo, d);
        let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
        Self::from_unix(secs, micros)
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Microseconds within the second.
    pub fn subsec_micros(self) -> u32 {
        self.0.rem_euclid(1_000_000) as u32
    }
}

/// Output longer than this is replaced by `<error>` (BIRD's 32-byte buffer with NUL).
pub const MAX_TIME_TEXT: usize = 31;

/// One `timeformat` setting.
///
/// ```
/// use birdcli::{TimeFormat, WallTime};
/// let now = WallTime::from_civil(2026, 11, 21, 10, 59, 17, 441_000);
/// let t = WallTime::from_civil(2026, 11, 21, 10, 59, 3, 512_345);
/// assert_eq!(TimeFormat::iso_short_ms().format(t, now, 0), "10:59:03.512");
/// assert_eq!(TimeFormat::iso_long().format(t, now, 0), "2026-11-21 10:59:03");
/// let old = WallTime::from_civil(2026, 11, 19, 10, 0, 0, 0);
/// assert_eq!(TimeFormat::iso_short_ms().format(old, now, 0), "2026-11-19");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFormat {
    /// Format for recent times (all times when `fmt2` is `None`).
    pub fmt1: String,
    /// Format for times at least `limit_secs` old.
    pub fmt2: Option<String>,
    /// Age limit in seconds selecting `fmt2`.
    pub limit_secs: i64,
}

const TWENTY_HOURS: i64 = 20 * 3600;

impl TimeFormat {
    fn short(f: &str) -> Self {
        TimeFormat { fmt1: f.into(), fmt2: Some("%F".into()), limit_secs: TWENTY_HOURS }
    }

    fn long(f: &str) -> Self {
        TimeFormat { fmt1: f.into(), fmt2: None, limit_secs: 0 }
    }

    /// `iso short`: `%T`, date after 20 h.
    pub fn iso_short() -> Self {
        Self::short("%T")
    }
    /// `iso short ms`: `%T.%3f`, date after 20 h (default for route and protocol).
    pub fn iso_short_ms() -> Self {
        Self::short("%T.%3f")
    }
    /// `iso short us`.
    pub fn iso_short_us() -> Self {
        Self::short("%T.%6f")
    }
    /// `iso long`: `%F %T`.
    pub fn iso_long() -> Self {
        Self::long("%F %T")
    }
    /// `iso long ms`: `%F %T.%3f` (default for base and log).
    pub fn iso_long_ms() -> Self {
        Self::long("%F %T.%3f")
    }
    /// `iso long us`.
    pub fn iso_long_us() -> Self {
        Self::long("%F %T.%6f")
    }
    /// `"fmt"`.
    pub fn custom(fmt: impl Into<String>) -> Self {
        TimeFormat { fmt1: fmt.into(), fmt2: None, limit_secs: 0 }
    }
    /// `"fmt1" limit "fmt2"`.
    pub fn custom_with_limit(fmt1: impl Into<String>, limit_secs: i64, fmt2: impl Into<String>) -> Self {
        TimeFormat { fmt1: fmt1.into(), fmt2: Some(fmt2.into()), limit_secs }
    }

    /// Formats `t` as seen at `now`, in a zone `utc_offset_secs` east of UTC.
    pub fn format(&self, t: WallTime, now: WallTime, utc_offset_secs: i32) -> String {
        let age = now.0 - t.0;
        let fmt = match &self.fmt2 {
            Some(f2) if self.limit_secs > 0 && age >= self.limit_secs * 1_000_000 => f2,
            _ => &self.fmt1,
        };
        format_real_time(fmt, t, utc_offset_secs).unwrap_or_else(|| "<error>".into())
    }
}

/// The four `timeformat` settings with BIRD's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFormats {
    /// `timeformat route`
    pub route: TimeFormat,
    /// `timeformat protocol`
    pub protocol: TimeFormat,
    /// `timeformat base`
    pub base: TimeFormat,
    /// `timeformat log`
    pub log: TimeFormat,
}

impl Default for TimeFormats {
    fn default() -> Self {
        TimeFormats {
            route: TimeFormat::iso_short_ms(),
            protocol: TimeFormat::iso_short_ms(),
            base: TimeFormat::iso_long_ms(),
            log: TimeFormat::iso_long_ms(),
        }
    }
}

/// Formatting context handed to the output formatters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeContext {
    /// The configured formats.
    pub formats: TimeFormats,
    /// Current wall-clock time.
    pub now: WallTime,
    /// Local zone offset east of UTC, in seconds.
    pub utc_offset_secs: i32,
}

impl TimeContext {
    /// Route time (`timeformat route`).
    pub fn route(&self, t: WallTime) -> String {
        self.formats.route.format(t, self.now, self.utc_offset_secs)
    }
    /// Protocol time (`timeformat protocol`).
    pub fn protocol(&self, t: WallTime) -> String {
        self.formats.protocol.format(t, self.now, self.utc_offset_secs)
    }
    /// Base time (`timeformat base`).
    pub fn base(&self, t: WallTime) -> String {
        self.formats.base.format(t, self.now, self.utc_offset_secs)
    }
    /// Log time (`timeformat log`).
    pub fn log(&self, t: WallTime) -> String {
        self.formats.log.format(t, self.now, self.utc_offset_secs)
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

struct Tm {
    year: i64,
    mon: u32,
    mday: u32,
    hour: u32,
    min: u32,
    sec: u32,
    wday: u32,
    yday: u32,
    secs: i64,
    off: i32,
}

const WDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Formats with BIRD's strftime dialect: `%f`/`%1f`..`%6f` are the fraction
/// (truncated), everything else follows C strftime in the C locale.
/// Returns `None` when the text exceeds [`MAX_TIME_TEXT`].
pub fn format_real_time(fmt: &str, t: WallTime, utc_offset_secs: i32) -> Option<String> {
    let local = t.secs() + i64::from(utc_offset_secs);
    let days = local.div_euclid(86_400);
    let sod = local.rem_euclid(86_400) as u32;
    let (year, mon, mday) = civil_from_days(days);
    let tm = Tm {
        year,
        mon,
        mday,
        hour: sod / 3600,
        min: sod / 60 % 60,
        sec: sod % 60,
        wday: (days + 4).rem_euclid(7) as u32,
        yday: (days - days_from_civil(year, 1, 1)) as u32,
        secs: t.secs(),
        off: utc_offset_secs,
    };
    let usec = t.subsec_micros();
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(d) = chars.next() else {
            out.push('%');
            break;
        };
        if let Some(digits) = d.to_digit(10).filter(|n| (1..=6).contains(n)) {
            if chars.peek() == Some(&'f') {
                chars.next();
                push_frac(&mut out, usec, digits);
                continue;
            }
            out.push('%');
            out.push(d);
            continue;
        }
        conv(&mut out, d, &tm, usec);
    }
    (out.len() <= MAX_TIME_TEXT).then_some(out)
}

fn push_frac(out: &mut String, usec: u32, digits: u32) {
    let v = usec / 10u32.pow(6 - digits);
    let _ = write!(out, "{v:0w$}", w = digits as usize);
}

fn conv(out: &mut String, d: char, tm: &Tm, usec: u32) {
    let _ = match d {
        'f' => {
            push_frac(out, usec, 6);
            Ok(())
        }
        'Y' => write!(out, "{}", tm.year),
        'C' => write!(out, "{:02}", tm.year.div_euclid(100)),
        'y' => write!(out, "{:02}", tm.year.rem_euclid(100)),
        'm' => write!(out, "{:02}", tm.mon),
        'd' => write!(out, "{:02}", tm.mday),
        'e' => write!(out, "{:2}", tm.mday),
        'H' => write!(out, "{:02}", tm.hour),
        'k' => write!(out, "{:2}", tm.hour),
        'I' => write!(out, "{:02}", (tm.hour + 11) % 12 + 1),
        'l' => write!(out, "{:2}", (tm.hour + 11) % 12 + 1),
        'M' => write!(out, "{:02}", tm.min),
        'S' => write!(out, "{:02}", tm.sec),
        'p' => out.write_str(if tm.hour < 12 { "AM" } else { "PM" }),
        'P' => out.write_str(if tm.hour < 12 { "am" } else { "pm" }),
        'j' => write!(out, "{:03}", tm.yday + 1),
        'a' => out.write_str(&WDAYS[tm.wday as usize][..3]),
        'A' => out.write_str(WDAYS[tm.wday as usize]),
        'b' | 'h' => out.write_str(&MONTHS[tm.mon as usize - 1][..3]),
        'B' => out.write_str(MONTHS[tm.mon as usize - 1]),
        'u' => write!(out, "{}", if tm.wday == 0 { 7 } else { tm.wday }),
        'w' => write!(out, "{}", tm.wday),
        's' => write!(out, "{}", tm.secs),
        'n' => out.write_str("\n"),
        't' => out.write_str("\t"),
        '%' => out.write_str("%"),
        'T' => write!(out, "{:02}:{:02}:{:02}", tm.hour, tm.min, tm.sec),
        'R' => write!(out, "{:02}:{:02}", tm.hour, tm.min),
        'F' => write!(out, "{}-{:02}-{:02}", tm.year, tm.mon, tm.mday),
        'D' => write!(out, "{:02}/{:02}/{:02}", tm.mon, tm.mday, tm.year.rem_euclid(100)),
        'c' => write!(
            out,
            "{} {} {:2} {:02}:{:02}:{:02} {}",
            &WDAYS[tm.wday as usize][..3],
            &MONTHS[tm.mon as usize - 1][..3],
            tm.mday,
            tm.hour,
            tm.min,
            tm.sec,
            tm.year
        ),
        'z' => {
            let sign = if tm.off < 0 { '-' } else { '+' };
            let a = tm.off.unsigned_abs();
            write!(out, "{sign}{:02}{:02}", a / 3600, a / 60 % 60)
        }
        other => {
            out.push('%');
            out.push(other);
            Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for days in [-800_000i64, -1, 0, 1, 10_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(WallTime::from_civil(2000, 3, 1, 0, 0, 0, 0).secs(), 951_868_800);
    }

    #[test]
    fn bird_defaults() {
        let now = WallTime::from_civil(2026, 11, 21, 10, 59, 17, 441_999);
        let ctx = TimeContext { now, ..Default::default() };
        assert_eq!(ctx.base(now), "2026-11-21 10:59:17.441");
        let t = WallTime::from_civil(2026, 11, 20, 15, 0, 0, 5_000);
        assert_eq!(ctx.route(t), "15:00:00.005"); // < 20 h
        let t = WallTime::from_civil(2026, 11, 20, 14, 59, 17, 441_999);
        assert_eq!(ctx.route(t), "2026-11-20"); // exactly 20 h
        assert_eq!(ctx.protocol(t), "2026-11-20");
    }

    #[test]
    fn custom_formats() {
        let t = WallTime::from_civil(2026, 1, 5, 7, 8, 9, 123_456);
        let now = t;
        assert_eq!(TimeFormat::custom("%f|%1f|%6f|%%f").format(t, now, 0), "123456|1|123456|%f");
        assert_eq!(TimeFormat::custom("%a %b %e %j %u").format(t, now, 0), "Mon Jan  5 005 1");
        assert_eq!(TimeFormat::custom("%H:%M %z").format(t, now, 3600), "08:08 +0100");
        assert_eq!(TimeFormat::custom("%s").format(t, now, 0), "1767596889");
        let f = TimeFormat::custom_with_limit("%T", 60, "%F");
        assert_eq!(f.format(t, WallTime(t.0 + 59_000_000), 0), "07:08:09");
        assert_eq!(f.format(t, WallTime(t.0 + 60_000_000), 0), "2026-01-05");
        assert_eq!(TimeFormat::iso_long_us().format(t, now, 0), "2026-01-05 07:08:09.123456");
        assert_eq!(TimeFormat::custom("x".repeat(32)).format(t, now, 0), "<error>");
        assert_eq!(TimeFormat::custom("%F %T %F %T").format(t, now, 0), "<error>");
    }
}
