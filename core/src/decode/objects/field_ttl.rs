//! Hashes with field TTLs: Redis 7.4 (types 24, 25, and the release candidates' 22, 23) and
//! Valkey 9 (type 22).

use super::packed::{blob_keys, duplicate_in_blob, Packing};
use super::{non_empty, read_distinct, Checks, Unique};
use crate::decode::cursor::Cursor;
use crate::decode::error::{DecodeError, ErrorKind, Result};
use crate::decode::length::{read_blob_based, read_count, read_len, read_millis, read_string};
use crate::decode::listpack;
use crate::decode::value::*;

/// Largest field expiry Redis can hold (`EB_EXPIRE_TIME_MAX`).
const EB_EXPIRE_TIME_MAX: u64 = (1 << 48) - 1;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TtlLayout {
    /// Redis 7.4 RC type 22: `LEN expire_at | STR field | STR value`, 0 = none.
    RedisAbsolute,
    /// Redis type 24: `MS min_expire`, then `LEN ttl | STR field | STR value`; expiry = min + ttl - 1.
    RedisRelative,
    /// Valkey 9 type 22: `STR field | STR value | MS expire_at`, -1 = none.
    Valkey,
}

pub(super) fn read_hash_with_ttls<'a>(c: &mut Cursor<'a>, layout: TtlLayout) -> Result<Hash<'a>> {
    let min_expire = if layout == TtlLayout::RedisRelative {
        Some(read_millis(c)?)
    } else {
        None
    };
    let at = c.offset();
    let n = non_empty(read_count(c, 3)?, at)?;
    let read_item = |c: &mut Cursor<'a>| -> Result<(RdbString<'a>, RdbString<'a>, Option<u64>)> {
        let ttl_at = c.offset();
        let bad_ttl = DecodeError::new(ErrorKind::InvalidFieldTtl, ttl_at);
        match layout {
            TtlLayout::Valkey => {
                let field = read_string(c)?;
                let value = read_string(c)?;
                let expire = match read_millis(c)? {
                    -1 => None,
                    t if t < 0 => return Err(bad_ttl),
                    t => Some(t as u64),
                };
                Ok((field, value, expire))
            }
            TtlLayout::RedisAbsolute | TtlLayout::RedisRelative => {
                let ttl = read_len(c)?;
                let expire = match (ttl, min_expire) {
                    (0, _) => None,
                    (t, None) => Some(t),
                    // A sum of 0 (min 0, ttl 1) means no TTL, as native loads it.
                    (t, Some(min)) => {
                        let abs = u64::try_from(min)
                            .ok()
                            .and_then(|m| m.checked_add(t - 1))
                            .ok_or(bad_ttl)?;
                        (abs != 0).then_some(abs)
                    }
                };
                if expire.is_some_and(|e| e > EB_EXPIRE_TIME_MAX) {
                    return Err(bad_ttl);
                }
                Ok((read_string(c)?, read_string(c)?, expire))
            }
        }
    };
    // Always checked: an expired field is not written, so no writer would see it repeated.
    // In Redis's layouts the field comes after its TTL.
    let to_field = |c: &mut Cursor<'a>| {
        if layout != TtlLayout::Valkey {
            let _ = read_len(c);
        }
    };
    let items = read_distinct(
        c,
        n,
        Checks::FULL,
        read_item,
        |(f, _, _)| f.as_element(),
        to_field,
    )?;
    Ok(Hash {
        repr: HashRepr::PlainWithTtl(items),
        len: n,
    })
}

pub(super) fn read_listpack_ex_hash<'a>(
    c: &mut Cursor<'a>,
    with_min_expire: bool,
) -> Result<Hash<'a>> {
    if with_min_expire {
        // Informational only, and can be stale (after HPERSIST): not validated.
        read_millis(c)?;
    }
    let at = c.offset();
    let (blob, base) = read_blob_based(c)?;
    let mut unique = Unique::growing(Checks::FULL, blob.len());
    let mut index = 0usize;
    let mut last_ttl: i64 = 0;
    let mut seen_none = false;
    let n = listpack::walk_at(&blob, base, |e, e_at| {
        match index % 3 {
            0 => unique.insert(e),
            2 => {
                // The TTL must be an integer entry, 0 (none) or 1..=2^48-1, ascending, none last.
                let bad = || base.error(ErrorKind::InvalidFieldTtl, e_at);
                let Element::Int(ttl) = e else {
                    return Err(bad());
                };
                if ttl < 0 || ttl as u64 > EB_EXPIRE_TIME_MAX {
                    return Err(bad());
                }
                if ttl == 0 {
                    seen_none = true;
                } else if seen_none || ttl < last_ttl {
                    return Err(bad());
                } else {
                    last_ttl = ttl;
                }
            }
            _ => {}
        }
        index += 1;
        Ok(())
    })?;
    if let Some(k) = unique.repeated(|| blob_keys(Packing::Listpack, &blob, base, 3)) {
        return Err(duplicate_in_blob(Packing::Listpack, &blob, base, 3, k));
    }
    if n % 3 != 0 {
        return Err(DecodeError::new(ErrorKind::OddElementCount, at));
    }
    non_empty(n, at)?;
    Ok(Hash {
        repr: HashRepr::ListpackWithTtl(blob),
        len: n / 3,
    })
}
