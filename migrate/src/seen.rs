//! A set of (database, key) pairs kept as 128-bit fingerprints under a per-run random key: 16
//! bytes a key whatever its length. Two keys sharing one (a chance of about n²/2¹²⁹) would make
//! one look present; its users say what that costs them (one extra key not reported).

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

pub struct SeenKeys {
    set: HashSet<u128>,
    hasher: std::collections::hash_map::RandomState,
}

impl SeenKeys {
    pub fn new() -> SeenKeys {
        SeenKeys {
            set: HashSet::new(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    fn fingerprint(&self, db: u32, key: &[u8]) -> u128 {
        let mut a = self.hasher.build_hasher();
        a.write_u32(db);
        a.write(key);
        let mut b = self.hasher.build_hasher();
        b.write_u8(0x5a);
        b.write_u32(db);
        b.write(key);
        (u128::from(a.finish()) << 64) | u128::from(b.finish())
    }

    pub fn insert(&mut self, db: u32, key: &[u8]) {
        let f = self.fingerprint(db, key);
        self.set.insert(f);
    }

    pub fn contains(&self, db: u32, key: &[u8]) -> bool {
        self.set.contains(&self.fingerprint(db, key))
    }
}
