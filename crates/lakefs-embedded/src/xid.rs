//! Object names as lakeFS makes them: `data/<partition>/<id>`, both parts `rs/xid` identifiers
//! (lakeFS v1.84 `pkg/upload/path_provider.go` `PathPartitionProvider`).
//!
//! An xid is 12 bytes — creation time (big-endian Unix seconds, 4 bytes), machine id (3), process
//! id (2), counter (3) — written as 20 lowercase base32hex characters (`0-9a-v`). The partition is
//! an xid whose time runs backwards from the year 4000, so newer partitions sort first; it changes
//! every hour or every 50 000 names. `VerifyLinkAddress` reads an address's creation time back from
//! its last path segment (`ResolvePathTime`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
/// The length of an encoded xid.
pub const XID_LEN: usize = 20;
/// lakeFS `unixYear4000`: partitions are named by `year 4000 - now`.
const UNIX_YEAR_4000: u64 = 64_060_588_800;
/// lakeFS `DefaultDataPartitionSize` and `DefaultDataInterval`.
const PARTITION_SIZE: u32 = 50_000;
const PARTITION_SECS: u64 = 3600;
/// lakeFS `DefaultDataPrefix`.
pub const DATA_PREFIX: &str = "data";

/// A 12-byte xid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xid([u8; 12]);

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Xid {
    /// A fresh xid with creation time `secs` (this process's machine id, pid and counter).
    pub fn with_time(secs: u64) -> Xid {
        static MACHINE: OnceLock<[u8; 3]> = OnceLock::new();
        static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
        let machine = MACHINE.get_or_init(rand::random::<[u8; 3]>);
        let n = COUNTER.get_or_init(|| AtomicU32::new(rand::random())).fetch_add(1, Ordering::Relaxed);
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&(secs as u32).to_be_bytes());
        b[4..7].copy_from_slice(machine);
        b[7..9].copy_from_slice(&(std::process::id() as u16).to_be_bytes());
        b[9..].copy_from_slice(&n.to_be_bytes()[1..]);
        Xid(b)
    }

    /// Its creation time (Unix seconds).
    pub fn time(&self) -> u64 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]]) as u64
    }

    /// Parses the 20-character form; `None` as xid's `FromString` fails ("xid: invalid ID"),
    /// including for a last character whose unused low bits are set.
    pub fn parse(s: &str) -> Option<Xid> {
        if s.len() != XID_LEN {
            return None;
        }
        let mut v: u128 = 0;
        for c in s.bytes() {
            v = (v << 5) | ALPHABET.iter().position(|&a| a == c)? as u128;
        }
        if v & 0xf != 0 {
            return None;
        }
        let bytes = (v >> 4).to_be_bytes();
        Some(Xid(bytes[4..].try_into().ok()?))
    }
}

impl std::fmt::Display for Xid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut wide = [0u8; 16];
        wide[4..].copy_from_slice(&self.0);
        let v = u128::from_be_bytes(wide) << 4;
        let text: String =
            (0..XID_LEN).map(|i| ALPHABET[((v >> (5 * (XID_LEN - 1 - i))) & 31) as usize] as char).collect();
        f.write_str(&text)
    }
}

struct Partition {
    started: u64,
    count: u32,
    name: String,
}

fn descending(now: u64) -> String {
    Xid::with_time(UNIX_YEAR_4000.saturating_sub(now)).to_string()
}

/// A new object name relative to a storage namespace: `data/<partition>/<xid>` (lakeFS `NewPath`).
pub fn new_data_path() -> String {
    static PARTITION: Mutex<Option<Partition>> = Mutex::new(None);
    let now = now_secs();
    let mut guard = PARTITION.lock().unwrap_or_else(|e| e.into_inner());
    let p = guard.get_or_insert_with(|| Partition { started: now, count: 0, name: descending(now) });
    p.count += 1;
    if p.count > PARTITION_SIZE || now.saturating_sub(p.started) > PARTITION_SECS {
        *p = Partition { started: now, count: 1, name: descending(now) };
    }
    format!("{DATA_PREFIX}/{}/{}", p.name, Xid::with_time(now))
}

/// The creation time of an object name (`ResolvePathTime`: its last segment as an xid).
pub fn path_time(address: &str) -> Option<u64> {
    Xid::parse(address.rsplit('/').next().unwrap_or(address)).map(|x| x.time())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xids_encode_as_rs_xid_does() {
        // rs/xid's own test vector: ID{0x4d, 0x88, 0xe1, 0x5b, 0x60, 0xf4, 0x86, 0xe4, 0x28, 0x41, 0x2d, 0xc9}.
        let id = Xid([0x4d, 0x88, 0xe1, 0x5b, 0x60, 0xf4, 0x86, 0xe4, 0x28, 0x41, 0x2d, 0xc9]);
        assert_eq!(id.to_string(), "9m4e2mr0ui3e8a215n4g");
        assert_eq!(Xid::parse("9m4e2mr0ui3e8a215n4g"), Some(id));
        assert_eq!(id.time(), 1_300_816_219);
        assert_eq!(Xid::parse("9m4e2mr0ui3e8a215n4h"), None, "low bits of the last character set");
        assert_eq!(Xid::parse("9m4e2mr0ui3e8a215n4"), None);
        assert_eq!(Xid::parse("9m4e2mr0ui3e8a215n4w"), None);
    }

    #[test]
    fn data_paths_carry_their_creation_time() {
        let p = new_data_path();
        let parts: Vec<&str> = p.split('/').collect();
        assert_eq!((parts.len(), parts[0], parts[1].len(), parts[2].len()), (3, "data", 20, 20));
        let t = path_time(&p).unwrap();
        assert!(now_secs().abs_diff(t) < 5);
        // The partition runs backwards from the year 4000 (its seconds truncated to 32 bits, as xid's).
        let partition = Xid::parse(parts[1]).unwrap().time();
        assert!(((UNIX_YEAR_4000 - now_secs()) as u32 as u64).abs_diff(partition) < PARTITION_SECS + 5);
        assert_ne!(new_data_path(), p);
        assert_eq!(path_time("data/x/not-an-xid"), None);
    }
}
