//! NOTIFICATION messages (RFC 4271 §4.5) with the error names BIRD logs and shows.

use std::fmt;

/// A NOTIFICATION: error code, subcode and data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// Diagnostic data.
    pub data: Vec<u8>,
}

/// Known `(code, subcode, text)` triples, worded as BIRD words them in logs and in
/// `show protocols all` (`Last error:`).
const TABLE: &[(u8, u8, &str)] = &[
    (1, 0, "Invalid message header"),
    (1, 1, "Connection not synchronized"),
    (1, 2, "Bad message length"),
    (1, 3, "Bad message type"),
    (2, 0, "Invalid OPEN message"),
    (2, 1, "Unsupported version number"),
    (2, 2, "Bad peer AS"),
    (2, 3, "Bad BGP identifier"),
    (2, 4, "Unsupported optional parameter"),
    (2, 5, "Authentication failure"),
    (2, 6, "Unacceptable hold time"),
    (2, 7, "Required capability missing"),
    (2, 8, "No supported AFI/SAFI"),
    (2, 11, "Role mismatch"),
    (3, 0, "Invalid UPDATE message"),
    (3, 1, "Malformed attribute list"),
    (3, 2, "Unrecognized well-known attribute"),
    (3, 3, "Missing mandatory attribute"),
    (3, 4, "Invalid attribute flags"),
    (3, 5, "Invalid attribute length"),
    (3, 6, "Invalid ORIGIN attribute"),
    (3, 7, "AS routing loop"),
    (3, 8, "Invalid NEXT_HOP attribute"),
    (3, 9, "Optional attribute error"),
    (3, 10, "Invalid network field"),
    (3, 11, "Malformed AS_PATH"),
    (4, 0, "Hold timer expired"),
    (5, 0, "Finite state machine error"),
    (5, 1, "Unexpected message in OpenSent state"),
    (5, 2, "Unexpected message in OpenConfirm state"),
    (5, 3, "Unexpected message in Established state"),
    (6, 0, "Cease"),
    (6, 1, "Maximum number of prefixes reached"),
    (6, 2, "Administrative shutdown"),
    (6, 3, "Peer de-configured"),
    (6, 4, "Administrative reset"),
    (6, 5, "Connection rejected"),
    (6, 6, "Other configuration change"),
    (6, 7, "Connection collision resolution"),
    (6, 8, "Out of Resources"),
    (7, 0, "Invalid ROUTE-REFRESH message"),
    (7, 1, "Invalid ROUTE-REFRESH message length"),
    (8, 0, "Send hold timer expired"),
];

/// BIRD's description of an error code and subcode (`Hold timer expired`,
/// `Unknown error 9.9` for unknown pairs).
pub fn error_description(code: u8, subcode: u8) -> String {
    TABLE
        .iter()
        .find(|(c, s, _)| *c == code && *s == subcode)
        .map_or_else(|| format!("Unknown error {code}.{subcode}"), |(_, _, t)| (*t).to_string())
}

impl Notification {
    /// A NOTIFICATION.
    pub fn new(code: u8, subcode: u8, data: Vec<u8>) -> Notification {
        Notification { code, subcode, data }
    }

    /// Cease with a shutdown communication (RFC 9003): subcode 2 (administrative shutdown) or 4
    /// (administrative reset), the message cut to 255 bytes at a character boundary.
    pub fn cease_with_message(subcode: u8, msg: &str) -> Notification {
        let mut end = msg.len().min(255);
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        let mut data = Vec::with_capacity(end + 1);
        if end > 0 {
            data.push(end as u8);
            data.extend_from_slice(&msg.as_bytes()[..end]);
        }
        Notification::new(6, subcode, data)
    }

    /// Decode a NOTIFICATION body (at least two bytes; framing checked that).
    pub fn decode(body: &[u8]) -> Notification {
        let code = body.first().copied().unwrap_or(0);
        let subcode = body.get(1).copied().unwrap_or(0);
        Notification::new(code, subcode, body.get(2..).unwrap_or(&[]).to_vec())
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.code);
        out.push(self.subcode);
        out.extend_from_slice(&self.data);
    }

    /// BIRD's description of the error (`Hold timer expired`).
    pub fn description(&self) -> String {
        error_description(self.code, self.subcode)
    }

    /// The shutdown communication of a Cease/administrative shutdown or reset (RFC 9003), when the data
    /// holds a well-formed one.
    pub fn shutdown_message(&self) -> Option<String> {
        if self.code != 6 || !matches!(self.subcode, 2 | 4) {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..usize::from(len))?;
        if len == 0 {
            return None;
        }
        std::str::from_utf8(text).ok().map(str::to_string)
    }
}

/// The description for logs, then the shutdown communication in quotes if there is one, else the
/// first 16 data bytes in hex (`Administrative shutdown: "maintenance"`, `Bad peer AS: fd e8`).
impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description())?;
        if let Some(m) = self.shutdown_message() {
            write!(f, ": \"{m}\"")?;
        } else if !self.data.is_empty() {
            f.write_str(":")?;
            for b in self.data.iter().take(16) {
                write!(f, " {b:02x}")?;
            }
            if self.data.len() > 16 {
                f.write_str(" ...")?;
            }
        }
        Ok(())
    }
}
